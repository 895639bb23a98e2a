package dev.coro;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How the tests start a child JVM: in English whatever the locale of the machine that runs them, so that the lines
 * a test expects from the child are the lines it prints for a developer in Germany or Japan too. Two texts of a child
 * follow the machine's locale: the JDK's name of a log record's level ({@code WARNUNG: coro runs on …} under a
 * German default, {@code 警告} under a Japanese one), and the C library's text of a system error that the JDK puts in
 * its exceptions ({@code Zu viele offene Dateien} for {@code Too many open files}, read through
 * {@code LC_MESSAGES} on Linux). The first is set by {@link #FLAGS}, the second by the child's environment.
 */
public final class ChildJvmLocale {

    /** The flags that make a child JVM's default locale US English, given right after its {@code java} launcher. */
    public static final List<String> FLAGS = List.of("-Duser.language=en", "-Duser.country=US");

    private ChildJvmLocale() {
    }

    /**
     * A process builder for {@code command} (a {@code java} launcher and its arguments, possibly run through a
     * shell): {@link #FLAGS} follow the launcher, and the environment takes the system's messages from the C locale
     * ({@code LC_MESSAGES=C}) and every other category as the machine has it (an {@code LC_ALL} of the machine, which
     * would override {@code LC_MESSAGES}, becomes the child's {@code LANG}, so that its encoding stays the same).
     *
     * @throws IllegalArgumentException if no element of {@code command} is a {@code java} launcher
     */
    public static ProcessBuilder processBuilder(List<String> command) {
        List<String> english = new ArrayList<>(command);
        int launcher = -1;
        for (int i = 0; i < english.size() && launcher < 0; i++) {
            Path name = Path.of(english.get(i)).getFileName();
            if (name != null && (name.toString().equals("java") || name.toString().equals("java.exe"))) {
                launcher = i;
            }
        }
        if (launcher < 0) {
            throw new IllegalArgumentException("no java launcher in the command " + command);
        }
        english.addAll(launcher + 1, FLAGS);
        ProcessBuilder b = new ProcessBuilder(english);
        Map<String, String> env = b.environment();
        String all = env.remove("LC_ALL");
        if (all != null && !all.isEmpty()) {
            env.keySet().removeIf(k -> k.startsWith("LC_")); // LC_ALL overrode them in this JVM: the child takes it whole
            env.put("LANG", all);
        }
        env.put("LC_MESSAGES", "C");
        return b;
    }
}
