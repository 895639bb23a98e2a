package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every test that a table row of docs/SEMANTICS.md names exists: {@code `SleepTest`} a test class,
 * {@code `SleepTest#method`} a method of it, {@code `CoroutineTest.Close#method`} a method of a nested
 * class, in the package {@code dev.coro}, {@code dev.coro.net} or {@code dev.coro.programs}; and so does every test that the
 * README and the other documents name anywhere, those of the examples and the benchmarks included.
 */
class SemanticsDocTest {

    /** The file, from the module's directory (where the build runs the tests). */
    private static final Path SEMANTICS = Path.of("..", "docs", "SEMANTICS.md");

    /** A test named in backquotes: a class, a nested class, a method. */
    private static final Pattern NAME = Pattern.compile("`([A-Z]\\w*Test)(?:\\.([A-Z]\\w*))?(?:#(\\w+))?`");

    private static final List<String> PACKAGES = List.of("dev.coro.", "dev.coro.net.", "dev.coro.programs.");

    @Test
    void everyTestNamedInATableRowExists() throws IOException {
        List<String> named = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String line : Files.readAllLines(SEMANTICS)) {
            if (!line.startsWith("|")) {
                continue;
            }
            Matcher m = NAME.matcher(line);
            while (m.find()) {
                named.add(m.group());
                if (!exists(m.group(1), m.group(2), m.group(3))) {
                    missing.add(m.group());
                }
            }
        }
        assertThat(named).as("tests named in %s", SEMANTICS).hasSizeGreaterThan(300);
        assertThat(missing).as("names in %s of no test", SEMANTICS).isEmpty();
    }

    @Test
    void everyTestTheOtherDocsNameExists() throws IOException {
        List<Path> docs = new ArrayList<>();
        docs.add(Path.of("..", "README.md"));
        try (var files = Files.list(Path.of("..", "docs"))) {
            files.filter(f -> f.toString().endsWith(".md") && !f.equals(SEMANTICS)).sorted().forEach(docs::add);
        }
        List<String> named = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (Path doc : docs) {
            Matcher m = NAME.matcher(Files.readString(doc));
            while (m.find()) {
                named.add(m.group());
                if (!exists(m.group(1), m.group(2), m.group(3)) && !inOtherModule(m.group(1), m.group(2), m.group(3))) {
                    missing.add(doc.getFileName() + ": " + m.group());
                }
            }
        }
        assertThat(named).as("tests named in %s", docs).hasSizeGreaterThan(50);
        assertThat(missing).as("names in %s of no test", docs).isEmpty();
    }

    /** The test sources of the modules whose tests this one cannot load: the examples' and the benchmarks'. */
    private static final List<Path> OTHER_TESTS = List.of(Path.of("..", "examples", "src", "test", "java", "dev", "coro", "examples"),
            Path.of("..", "benchmarks", "src", "test", "java", "dev", "coro", "bench"));

    /** Whether a test source of another module declares the class {@code outer} (with {@code nested} and {@code method}). */
    private static boolean inOtherModule(String outer, String nested, String method) throws IOException {
        for (Path dir : OTHER_TESTS) {
            Path file = dir.resolve(outer + ".java");
            if (Files.isRegularFile(file)) {
                String source = Files.readString(file);
                return source.contains("class " + outer + " ")
                        && (nested == null || source.contains("class " + nested + " "))
                        && (method == null || Pattern.compile("\\bvoid " + method + "\\(").matcher(source).find());
            }
        }
        return false;
    }

    private static boolean exists(String outer, String nested, String method) {
        Optional<Class<?>> c = find(nested == null ? outer : outer + "$" + nested);
        if (c.isEmpty()) {
            return false;
        }
        return method == null
                || Arrays.stream(c.get().getDeclaredMethods()).map(Method::getName).anyMatch(method::equals);
    }

    private static Optional<Class<?>> find(String binaryName) {
        for (String p : PACKAGES) {
            try {
                return Optional.of(Class.forName(p + binaryName, false, SemanticsDocTest.class.getClassLoader()));
            } catch (ClassNotFoundException e) {
                // try the next package
            }
        }
        return Optional.empty();
    }
}
