/**
 * The mutation score of the library assembled from runs of the mutation profile on parts of it: each
 * complete run is saved as a table under {@code docs/results/mutation/}, and the total counts a table
 * only while the sources it mutated are unchanged since the commit it was measured on.
 *
 * <pre>
 * scripts/mutation-results save NAME COMMIT LOG [MUTATIONS_XML]   save a finished run: the commit it ran on, the build's
 *                                                                output (its "Generated N mutations" line), PIT's XML
 *                                                                (default coro/target/pit-reports/mutations.xml)
 * scripts/mutation-results                                        the score per table and class, and the total
 * </pre>
 *
 * <p>A whole run of the profile takes hours on a small machine; the tables let it be done class group
 * by class group ({@code -Dcoro.pit.classes=...}, see the README's "Tests"), each on the code of its
 * day, and added up as long as that code is what the repository holds.
 */
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class MutationResults {

    static final Path DIR = Path.of("docs/results/mutation");
    static final Path SOURCES = Path.of("coro/src/main/java");
    static final String HEADER = "status\tclass\tmethod\tline\tmutator\tdescription";

    /** One mutant: what PIT did where, and whether a test detected it. */
    record Mutant(String status, String cls, String method, String line, String mutator, String description) {
        boolean detected() {
            return !status.equals("SURVIVED") && !status.equals("NO_COVERAGE");
        }

        /** The source file of its class, relative to the repository. */
        Path source() {
            String top = cls.contains("$") ? cls.substring(0, cls.indexOf('$')) : cls;
            return SOURCES.resolve(top.replace('.', '/') + ".java");
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("save")) {
            if (args.length < 4) {
                throw new IllegalArgumentException("usage: save NAME COMMIT LOG [MUTATIONS_XML]");
            }
            String commit = git("rev-parse", args[2]).strip();
            Path xml = Path.of(args.length > 4 ? args[4] : "coro/target/pit-reports/mutations.xml");
            save(args[1], commit, Path.of(args[3]), xml);
        } else if (args.length == 0) {
            total();
        } else {
            throw new IllegalArgumentException("usage: save NAME COMMIT LOG [MUTATIONS_XML], or no argument for the total");
        }
    }

    static void save(String name, String commit, Path log, Path xml) throws IOException {
        String text = Files.readString(xml);
        // PIT writes its XML as it goes: only the build's closing statistics say the run finished
        Matcher generated = Pattern.compile(">> Generated (\\d+) mutations Killed").matcher(Files.readString(log));
        int expected = -1;
        while (generated.find()) {
            expected = Integer.parseInt(generated.group(1));
        }
        Matcher m = Pattern.compile("<mutation detected='(\\w+)' status='(\\w+)'.*?</mutation>", Pattern.DOTALL).matcher(text);
        List<String> rows = new ArrayList<>();
        while (m.find()) {
            String e = m.group();
            rows.add(String.join("\t", m.group(2), field(e, "mutatedClass"), field(e, "mutatedMethod"),
                    field(e, "lineNumber"), field(e, "mutator").replace("org.pitest.mutationtest.engine.gregor.mutators.", ""),
                    field(e, "description").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">")
                            .replace("&amp;", "&")));
        }
        if (expected < 0 || rows.size() != expected) {
            throw new IllegalStateException(xml + " holds " + rows.size() + " mutants, but " + log
                    + (expected < 0 ? " does not show a finished run" : " says the run generated " + expected) + ": not saved");
        }
        rows.sort(null);
        Files.createDirectories(DIR);
        Path out = DIR.resolve(name + ".tsv");
        List<String> lines = new ArrayList<>();
        lines.add("# commit " + commit);
        lines.add(HEADER);
        lines.addAll(rows);
        Files.write(out, lines, StandardCharsets.UTF_8);
        System.out.println("saved " + rows.size() + " mutants to " + out);
    }

    static void total() throws IOException, InterruptedException {
        Map<String, String> tableOfClass = new TreeMap<>();
        Map<String, int[]> perClass = new TreeMap<>();
        int detected = 0;
        int all = 0;
        List<Path> tables;
        try (var files = Files.list(DIR)) {
            tables = files.filter(p -> p.toString().endsWith(".tsv")).sorted().toList();
        }
        for (Path table : tables) {
            List<String> lines = Files.readAllLines(table);
            String commit = lines.get(0).replace("# commit ", "");
            List<Mutant> mutants = lines.stream().skip(2).map(l -> l.split("\t", -1))
                    .map(f -> new Mutant(f[0], f[1], f[2], f[3], f[4], f[5])).toList();
            TreeSet<String> sources = new TreeSet<>();
            mutants.forEach(x -> sources.add(x.source().toString()));
            List<String> diff = new ArrayList<>(List.of("diff", "--name-only", commit, "--"));
            diff.addAll(sources);
            String changed = git(diff.toArray(String[]::new)).strip();
            int d = (int) mutants.stream().filter(Mutant::detected).count();
            String name = table.getFileName().toString();
            System.out.printf(java.util.Locale.ROOT, "%-28s %5d mutants %5d detected %6.2f%%  commit %.10s%s%n", name, mutants.size(), d,
                    100.0 * d / mutants.size(), commit, changed.isEmpty() ? "" : "  STALE, changed since: "
                            + changed.replace('\n', ' '));
            if (!changed.isEmpty()) {
                continue;
            }
            for (Mutant x : mutants) {
                String top = x.source().toString();
                String other = tableOfClass.putIfAbsent(top, name);
                if (other != null && !other.equals(name)) {
                    throw new IllegalStateException(top + " is mutated in both " + other + " and " + name + ": delete one");
                }
                int[] c = perClass.computeIfAbsent(top, k -> new int[2]);
                c[0] += x.detected() ? 1 : 0;
                c[1]++;
            }
            detected += d;
            all += mutants.size();
        }
        System.out.println();
        perClass.forEach((source, c) -> System.out.printf(java.util.Locale.ROOT, "%-60s %5d / %5d %6.2f%%%n", source, c[0], c[1], 100.0 * c[0] / c[1]));
        System.out.printf(java.util.Locale.ROOT, "%ntotal of the tables that are up to date: %d of %d mutants detected, %.2f%%%n", detected, all,
                all == 0 ? 0.0 : 100.0 * detected / all);
        TreeSet<String> without = new TreeSet<>();
        try (var files = Files.walk(SOURCES)) {
            files.filter(p -> p.toString().endsWith(".java") && !p.endsWith("package-info.java")
                            && !p.endsWith("module-info.java"))
                    .map(Path::toString).filter(p -> !perClass.containsKey(p)).forEach(without::add);
        }
        System.out.println("sources without an up-to-date result (no run yet, or no mutant in them): "
                + (without.isEmpty() ? "none" : String.join(" ", without)));
    }

    /** The text of the first element {@code name} in {@code xml}. */
    static String field(String xml, String name) {
        int start = xml.indexOf("<" + name + ">");
        if (start < 0) {
            return "";
        }
        start += name.length() + 2;
        return xml.substring(start, xml.indexOf("</" + name + ">", start));
    }

    static String git(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }
}
