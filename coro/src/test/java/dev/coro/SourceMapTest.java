package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/SOURCES.md, the map of the library's sources by concern, names every source file of the library once and
 * no file that is not there, each with the definition the file opens with, so the map cannot drift from the code;
 * and every source file opens with its definition, a Javadoc comment before anything but its package and imports.
 */
class SourceMapTest {

    /** The map, from the module's directory (where the build runs the tests). */
    private static final Path MAP = Path.of("..", "docs", "SOURCES.md");

    /** The sources of the package {@code dev.coro} and its subpackages. */
    private static final Path SOURCES = Path.of("src", "main", "java", "dev", "coro");

    /** A row of the map: its first cell, a file named relative to {@code dev/coro}, and its second, the file's definition. */
    private static final Pattern ROW = Pattern.compile("^\\| `([\\w/-]+\\.java)` \\| (.*) \\|$");

    /** An inline Javadoc tag that the map shows as code: {@code {@code x}}, {@code {@link x}}, {@code {@value x}}. */
    private static final Pattern TAG = Pattern.compile("\\{@(?:code|link|linkplain|value)\\s+([^{}]*)\\}");

    /** The end of a Javadoc first sentence: a period before a blank or the end, not that of "e.g." or "i.e.". */
    private static final Pattern SENTENCE_END = Pattern.compile("(?<!e\\.g)(?<!i\\.e)\\.(\\s|$)");

    /** The rows of the map, in its order: group 1 the file's path under the sources, group 2 the row's text. */
    private static List<MatchResult> rows() throws IOException {
        List<MatchResult> rows = new ArrayList<>();
        for (String line : Files.readAllLines(MAP)) {
            Matcher m = ROW.matcher(line);
            if (m.find()) {
                rows.add(m.toMatchResult());
            }
        }
        return rows;
    }

    @Test
    void theMapNamesEverySourceFileOnceAndNoOther() throws IOException {
        List<String> named = rows().stream().map(r -> r.group(1)).toList();
        TreeSet<String> sources = new TreeSet<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            files.filter(p -> p.toString().endsWith(".java"))
                    .forEach(p -> sources.add(SOURCES.relativize(p).toString().replace('\\', '/')));
        }
        assertThat(sources).as("the library has sources").isNotEmpty();
        assertThat(named).as("each file is named once in %s", MAP).doesNotHaveDuplicates();
        assertThat(new TreeSet<>(named)).as("the files %s names, against the sources", MAP).isEqualTo(sources);
    }

    @Test
    void eachRowGivesItsFilesDefinitionAsTheFileOpensWithIt() throws IOException {
        List<String> differing = new ArrayList<>();
        for (MatchResult row : rows()) {
            String definition = definition(Files.readString(SOURCES.resolve(row.group(1))));
            if (!row.group(2).replace("\\|", "|").equals(definition)) {
                differing.add(row.group(1) + ": the map says '" + row.group(2) + "', the file '" + definition + "'");
            }
        }
        assertThat(differing).as("rows of %s whose definition is not their file's", MAP).isEmpty();
    }

    /**
     * The first sentence of the first Javadoc comment of {@code source}, inline tags shown as code and HTML tags
     * dropped, ending with a period.
     */
    private static String definition(String source) {
        int start = source.indexOf("/**");
        String comment = source.substring(start + 3, source.indexOf("*/", start));
        StringBuilder text = new StringBuilder();
        for (String l : comment.split("\n")) {
            String t = l.strip();
            t = t.startsWith("*") ? t.substring(1).strip() : t;
            if (!t.isEmpty()) {
                text.append(text.isEmpty() ? "" : " ").append(t);
            }
        }
        String joined = text.toString().replaceAll("<[^>]+>", "");
        Matcher end = SENTENCE_END.matcher(joined);
        String first = end.find() ? joined.substring(0, end.start()) : joined;
        first = TAG.matcher(first).replaceAll(r -> Matcher.quoteReplacement("`" + r.group(1).strip() + "`"));
        while (first.endsWith(":") || first.endsWith(".")) {
            first = first.substring(0, first.length() - 1);
        }
        return first + ".";
    }

    @Test
    void everySourceFileOpensWithItsDefinition() throws IOException {
        List<String> without = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                String first = Files.readAllLines(p).stream()
                        .filter(l -> !l.isBlank() && !l.startsWith("package ") && !l.startsWith("import "))
                        .findFirst().orElse("");
                if (!first.startsWith("/**")) {
                    without.add(SOURCES.relativize(p) + " opens with: " + first);
                }
            }
        }
        assertThat(without).as("source files that do not open with a Javadoc comment").isEmpty();
    }
}
