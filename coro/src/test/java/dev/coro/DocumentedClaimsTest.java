package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Claims of the README, of the rule books and of the Javadoc that no other test checked, checked against the
 * code: the README's API cheat sheet names every public type and method of the exported packages, a
 * semaphore's default name counts as the other default names do, and a pool's close throws what a wait does.
 */
@ExtendWith(FreshThread.class)
class DocumentedClaimsTest {

    /** The exported packages' sources, from the module's directory (where the build runs the tests). */
    private static final Path SOURCES = Path.of("src", "main", "java");
    private static final List<String> EXPORTED = List.of("dev.coro", "dev.coro.net", "dev.coro.management");

    @Test
    void theCheatSheetNamesEveryPublicTypeAndMethodOfTheExportedPackages() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int start = readme.indexOf("## API cheat sheet");
        String sheet = readme.substring(start, readme.indexOf("\n## ", start + 1));
        List<String> spans = new ArrayList<>();
        Matcher span = Pattern.compile("`([^`\n]+)`").matcher(sheet);
        while (span.find()) {
            spans.add(span.group(1));
        }
        TreeSet<String> missing = new TreeSet<>();
        for (Class<?> type : publicTypes()) {
            if (spans.stream().noneMatch(t -> Pattern.compile("\\b" + type.getSimpleName() + "\\b").matcher(t).find())) {
                missing.add(type.getName());
            }
            if (!type.isRecord() && Stream.of(type.getConstructors()).anyMatch(c -> Modifier.isPublic(c.getModifiers()))
                    && spans.stream().noneMatch(t -> t.startsWith("new " + type.getSimpleName() + "("))
                    && spans.stream().noneMatch(t -> t.startsWith("new " + type.getSimpleName() + "<"))) {
                missing.add("new " + type.getSimpleName());
            }
            for (Method m : type.getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && !m.isBridge() && !inheritedFromTheJdk(type, m)
                        && !(type.isEnum() && List.of("values", "valueOf").contains(m.getName()))
                        && !(type.isRecord() && type.getRecordComponents().length > 0 && m.getParameterCount() == 0
                                && Stream.of(type.getRecordComponents()).anyMatch(c -> c.getName().equals(m.getName())))
                        && spans.stream().noneMatch(t -> Pattern.compile("\\b" + m.getName() + "\\b").matcher(t).find())) {
                    missing.add(type.getSimpleName() + "." + m.getName());
                }
            }
        }
        assertThat(missing).as("public types and methods the README's cheat sheet does not name").isEmpty();
    }

    /**
     * A semaphore's default name counts the thread's semaphores (named ones too) from 1, from 1 again inside a
     * {@code VirtualTime.run}, and on after it counting the run's, as the names of coroutines, channels and
     * generators do; the count never wraps.
     */
    @Test
    void aSemaphoresDefaultNameCountsFromOneInsideAVirtualTimeRunAndGoesOnCountingTheRunsAfterIt() {
        Semaphore before = new Semaphore(1);
        List<String> inside = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            VirtualTime.run(() -> {
                inside.add(new Semaphore(1).name());
                inside.add(new Semaphore("named", 1).name());
                inside.add(new Semaphore(2).name());
            });
        }
        assertThat(before.name()).isEqualTo("semaphore-1");
        assertThat(inside).containsExactly("semaphore-1", "named", "semaphore-3", "semaphore-1", "named", "semaphore-3");
        assertThat(new Semaphore(1).name()).as("counting the thread's semaphores, those of the runs too").isEqualTo("semaphore-8");
        Scheduler.current().semaphoresCreated = Integer.MAX_VALUE;
        assertThat(new Semaphore(3)).hasToString("Semaphore[semaphore-2147483648, 3 of 3 permits free]");
    }

    /**
     * {@code CoroutinePool.close()} waits as an await does: in main, a coroutine it created that fails meanwhile
     * ends the wait with its failure, the pool left closing (it takes no more bodies), and the pool's own
     * unobserved failure goes to the next close, once.
     */
    @Test
    void aCoroutineFailingWhileMainClosesAPoolEndsTheCloseWithItsFailureAndTheNextCloseReportsThePools() {
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CoroutinePool pool = CoroutinePool.start(1);
        String name = pool.toString().substring("CoroutinePool[".length(), pool.toString().indexOf(','));
        pool.execute("failing", () -> {
            Coroutine.await(gate);
            throw new IllegalStateException("the pool's");
        });
        Coroutine.create("bad", () -> {
            throw new IllegalStateException("main's");
        });
        assertThatThrownBy(pool::close).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'bad' failed: java.lang.IllegalStateException: main's");
        assertThat(pool).hasToString("CoroutinePool[" + name + ", 1 thread, closing]");
        assertThatThrownBy(() -> pool.execute(() -> { })).isInstanceOf(RejectedExecutionException.class)
                .hasMessage("main context 'main' cannot execute on " + name + " (closing): a closing pool takes no more bodies");
        gate.complete(null);
        assertThatThrownBy(pool::close).isInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'failing' on thread '" + name
                        + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #1, threw java.lang.IllegalStateException:"
                        + " the pool's")
                .cause().hasMessage("the pool's");
        pool.close();
        assertThat(pool).as("reported once").hasToString("CoroutinePool[" + name + ", 1 thread, closed]");
    }

    /** Every public type of the exported packages, nested ones included. */
    private static List<Class<?>> publicTypes() throws IOException, ClassNotFoundException {
        List<Class<?>> types = new ArrayList<>();
        for (String p : EXPORTED) {
            try (Stream<Path> files = Files.list(SOURCES.resolve(p.replace('.', '/')))) {
                for (Path f : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                    String simple = f.getFileName().toString().replace(".java", "");
                    if (simple.equals("package-info")) {
                        continue;
                    }
                    Class<?> c = Class.forName(p + "." + simple, false, DocumentedClaimsTest.class.getClassLoader());
                    addPublic(c, types);
                }
            }
        }
        return types;
    }

    private static void addPublic(Class<?> c, List<Class<?>> types) {
        if (!Modifier.isPublic(c.getModifiers())) {
            return;
        }
        types.add(c);
        for (Class<?> nested : c.getDeclaredClasses()) {
            addPublic(nested, types);
        }
    }

    /** Whether {@code m} implements or overrides a method of a JDK type ({@code Object}, {@code Iterator} …). */
    private static boolean inheritedFromTheJdk(Class<?> type, Method m) {
        List<Class<?>> supers = new ArrayList<>(List.of(type.getInterfaces()));
        for (Class<?> s = type.getSuperclass(); s != null; s = s.getSuperclass()) {
            supers.add(s);
            supers.addAll(List.of(s.getInterfaces()));
        }
        supers.add(Object.class);
        for (int k = 0; k < supers.size(); k++) {
            Class<?> s = supers.get(k);
            if (s.getName().startsWith("java.")) {
                try {
                    s.getMethod(m.getName(), m.getParameterTypes());
                    return true;
                } catch (NoSuchMethodException e) {
                    // not this one
                }
            }
            supers.addAll(List.of(s.getInterfaces()));
        }
        return false;
    }
}
