package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a program that uses the library meets as it is launched: which engine runs, and the warning or
 * refusal it gets, with the library on the module path (a module {@code app} that {@code requires dev.coro}),
 * in a module layer of its own or on the class path, with the exports flag that fits, the one that does not,
 * or none; and that the JMX view {@code -Dcoro.jmx=true} registers and the JFR events work from the module
 * (the program reads and records them only under that property). Each case is a child JVM (the choice is made once per JVM) running a small
 * program compiled here; its log records are printed on one line each ({@code LEVEL: message}).
 */
@Tag("child-jvm") // its checks run in child JVMs, which mutation testing does not mutate
class LaunchModesTest {

    private static final String MODULE_FLAG = "--add-exports=java.base/jdk.internal.vm=dev.coro";
    private static final String CLASS_PATH_FLAG = "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED";

    /** The fallback's warning, but for the text between the reason and the cost, and the flag it names. */
    private static final String WARNING = "WARNING: coro runs on its thread engine: jdk.internal.vm is not exported to"
            + " this library%s, so each coroutine runs on a virtual thread of its own and every switch costs a"
            + " virtual-thread park/unpark handoff (several times the continuation engine's switch, tens of times when"
            + " main is a platform thread). Add the JVM flag --add-exports java.base/jdk.internal.vm=%s for the"
            + " continuation engine, or set -Dcoro.engine=threads to choose this engine and silence this warning.";

    /** The library's classes: the module {@code dev.coro} on a module path, plain classes on a class path. */
    private static final Path LIBRARY = location(Coroutine.class);
    /** The tests' classes, for a child whose main class is one of them. */
    private static final Path TESTS = location(LaunchModesTest.class);

    @TempDir
    static Path dir;

    /** The program's classes, compiled by {@link #compileTheProgram()}: the module {@code app}. */
    private static Path program;

    /** Compiles the module {@code app}: {@code requires dev.coro}, and its main class {@code app.Main}. */
    @BeforeAll
    static void compileTheProgram() throws IOException {
        Path src = dir.resolve("src");
        Files.createDirectories(src.resolve("app"));
        Path info = Files.writeString(src.resolve("module-info.java"),
                "module app { requires dev.coro; requires jdk.jfr; }\n");
        Path main = Files.writeString(src.resolve("app/Main.java"), """
                package app;

                import dev.coro.Channel;
                import dev.coro.Coroutine;
                import java.lang.management.ManagementFactory;
                import java.nio.file.Files;
                import java.nio.file.Path;
                import java.time.Duration;
                import java.util.Set;
                import java.util.TreeSet;
                import javax.management.MBeanServer;
                import javax.management.ObjectName;
                import javax.management.openmbean.CompositeData;
                import jdk.jfr.Recording;
                import jdk.jfr.consumer.RecordedEvent;
                import jdk.jfr.consumer.RecordingFile;

                public final class Main {
                    public static void main(String[] args) throws Exception {
                        Thread owner = Thread.currentThread();
                        boolean[] onOwner = new boolean[1];
                        try {
                            Coroutine c = Coroutine.create("worker", () -> onOwner[0] = Thread.currentThread() == owner);
                            c.switchTo();
                            System.out.println("ran " + c.state() + (onOwner[0] ? " on the owner thread" : " on a thread of its own"));
                        } catch (RuntimeException e) {
                            System.out.println("threw " + e);
                            return;
                        }
                        if (!Boolean.getBoolean("coro.jmx")) {
                            return;
                        }
                        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
                        ObjectName name = new ObjectName("dev.coro:type=Coroutines");
                        System.out.println("registered " + server.isRegistered(name));
                        for (CompositeData d : (CompositeData[]) server.getAttribute(name, "Schedulers")) {
                            System.out.println("scheduler " + d.get("threadName") + " engine " + d.get("engine"));
                        }
                        record();
                    }

                    /** Records the library's JFR events around a coroutine's send that main receives. */
                    private static void record() throws Exception {
                        Path file = Files.createTempFile("app", ".jfr");
                        try (Recording r = new Recording()) {
                            r.enable("dev.coro.Park").withThreshold(Duration.ZERO);
                            r.enable("dev.coro.CoroutineStart");
                            r.enable("dev.coro.CoroutineEnd");
                            r.disable("dev.coro.SchedulerStatistics"); // periodic: recorded or not as the chunks end
                            r.start();
                            Channel<Integer> ch = new Channel<>("ch", 0);
                            Coroutine.create("sender", () -> ch.send(1));
                            ch.receive();
                            r.stop();
                            r.dump(file);
                            Set<String> names = new TreeSet<>();
                            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                                names.add(e.getEventType().getName());
                            }
                            System.out.println("recorded " + names);
                        } finally {
                            Files.delete(file);
                        }
                    }
                }
                """);
        program = dir.resolve("app");
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        PrintWriter to = new PrintWriter(diagnostics, true, StandardCharsets.UTF_8);
        int status = ToolProvider.findFirst("javac").orElseThrow().run(to, to, "-d", program.toString(),
                "--module-path", LIBRARY.toString(), info.toString(), main.toString());
        assertThat(status).as("javac: %s", diagnostics.toString(StandardCharsets.UTF_8)).isZero();
    }

    @Test
    @Timeout(120)
    void aModuleThatRequiresTheLibraryRunsOnTheContinuationEngineWithTheModulesFlagWithItsJmxViewAndJfrEvents()
            throws IOException, InterruptedException {
        assertThat(run(MODULE_FLAG, "-Dcoro.jmx=true", "--module-path", LIBRARY + File.pathSeparator + program,
                "--module", "app/app.Main")).containsExactly(
                        "ran FINISHED on the owner thread", "registered true", "scheduler main engine continuation",
                        "recorded [dev.coro.CoroutineEnd, dev.coro.CoroutineStart, dev.coro.Park]");
    }

    @Test
    @Timeout(120)
    void onTheModulePathTheClassPathsFlagFallsBackToTheThreadEngineWithAWarningThatSaysWhyAndNamesTheModulesFlag()
            throws IOException, InterruptedException {
        assertThat(run(CLASS_PATH_FLAG, "--module-path", LIBRARY + File.pathSeparator + program,
                "--module", "app/app.Main")).containsExactly(
                        WARNING.formatted(" (--add-exports java.base/jdk.internal.vm=ALL-UNNAMED exports it to the class"
                                + " path only, and this library is the module dev.coro)", "dev.coro"),
                        "ran FINISHED on a thread of its own");
    }

    @Test
    @Timeout(120)
    void onTheModulePathTheClassPathsFlagWithTheContinuationEngineAskedForIsRefusedSayingWhyAndNamingTheModulesFlag()
            throws IOException, InterruptedException {
        assertThat(run(CLASS_PATH_FLAG, "-Dcoro.engine=continuation",
                "--module-path", LIBRARY + File.pathSeparator + program, "--module", "app/app.Main")).containsExactly(
                        "threw java.lang.UnsupportedOperationException: cannot use the continuation engine asked for by"
                                + " -Dcoro.engine='continuation': add the JVM flag --add-exports java.base/jdk.internal.vm=dev.coro"
                                + " (the package jdk.internal.vm is not exported to this library: --add-exports"
                                + " java.base/jdk.internal.vm=ALL-UNNAMED exports it to the class path only, and this library"
                                + " is the module dev.coro), or remove the property to fall back to the thread engine");
    }

    @Test
    @Timeout(120)
    void onTheClassPathWithoutTheFlagItRunsOnTheThreadEngineAfterOneWarningNamingTheClassPathsFlag()
            throws IOException, InterruptedException {
        assertThat(run("-cp", LIBRARY + File.pathSeparator + program, "app.Main"))
                .containsExactly(WARNING.formatted("", "ALL-UNNAMED"), "ran FINISHED on a thread of its own");
    }

    @Test
    @Timeout(120)
    void anExecutableJarWhoseManifestAddsTheExportsRunsOnTheContinuationEngine() throws IOException, InterruptedException {
        Path jar = dir.resolve("jar/app.jar");
        Files.createDirectories(jar.getParent());
        Manifest manifest = new Manifest();
        Attributes a = manifest.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(Attributes.Name.MAIN_CLASS, "app.Main");
        a.put(Attributes.Name.CLASS_PATH, relativeUrl(jar.getParent(), LIBRARY));
        a.putValue("Add-Exports", "java.base/jdk.internal.vm");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
            out.putNextEntry(new JarEntry("app/Main.class"));
            out.write(Files.readAllBytes(program.resolve("app/Main.class")));
            out.closeEntry();
        }
        assertThat(run("-jar", jar.toString())).containsExactly("ran FINISHED on the owner thread");
    }

    @Test
    @Timeout(120)
    void aModuleOfALayerOtherThanTheBootLayerFallsBackWithAWarningToLoadItFromTheModulePathWhichTheFlagReaches()
            throws IOException, InterruptedException {
        assertThat(run("-cp", TESTS.toString(), InALayer.class.getName(), LIBRARY.toString())).containsExactly(
                WARNING.formatted(" (this library is the module dev.coro of a module layer other than the boot layer,"
                        + " which no JVM flag reaches: load it from the module path)", "dev.coro"),
                "ran FINISHED on a thread of its own");
    }

    /** A program on the class path that loads the library as the module {@code dev.coro} of a layer of its own. */
    static final class InALayer {

        /**
         * Runs a coroutine, through reflection, of the module {@code dev.coro} found in {@code args[0]}, loaded
         * in a layer over the boot layer.
         *
         * @param args the library's classes
         * @throws ReflectiveOperationException if the library's API is not as it should be
         */
        public static void main(String[] args) throws ReflectiveOperationException {
            ModuleLayer boot = ModuleLayer.boot();
            Configuration c = boot.configuration().resolve(ModuleFinder.of(Path.of(args[0])), ModuleFinder.of(),
                    Set.of("dev.coro"));
            ModuleLayer layer = boot.defineModulesWithOneLoader(c, ClassLoader.getSystemClassLoader());
            Class<?> coroutine = layer.findLoader("dev.coro").loadClass("dev.coro.Coroutine");
            Thread owner = Thread.currentThread();
            boolean[] onOwner = new boolean[1];
            Runnable body = () -> onOwner[0] = Thread.currentThread() == owner;
            Object worker = coroutine.getMethod("create", String.class, Runnable.class).invoke(null, "worker", body);
            coroutine.getMethod("switchTo").invoke(worker);
            System.out.println("ran " + coroutine.getMethod("state").invoke(worker)
                    + (onOwner[0] ? " on the owner thread" : " on a thread of its own"));
        }
    }

    /** Runs the JDK's {@code java} with {@code args}; its output and error lines as they came. */
    private static List<String> run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.util.logging.SimpleFormatter.format=%4$s: %5$s%n"));
        command.addAll(List.of(args));
        Process child = ChildJvmLocale.processBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(100, TimeUnit.SECONDS)).as("the child JVM ended").isTrue();
        assertThat(child.exitValue()).as("exit status; it printed:%n%s", out).isZero();
        return out.lines().toList();
    }

    /** The directory {@code target} as a URL relative to {@code from}, as a manifest's {@code Class-Path} takes it. */
    private static String relativeUrl(Path from, Path target) {
        try {
            return new URI(null, null, from.relativize(target).toString().replace('\\', '/') + "/", null).toASCIIString();
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** The directory (or jar) {@code c} was loaded from. */
    private static Path location(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }
}
