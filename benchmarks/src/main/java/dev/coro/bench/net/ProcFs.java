package dev.coro.bench.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads another process's resident memory and CPU time from Linux's {@code /proc}: the server's cost as
 * the load generator sees it from outside.
 */
public final class ProcFs {

    /** Linux's USER_HZ, the unit of the CPU times in {@code /proc/PID/stat}: 100 on every mainstream architecture. */
    private static final long TICKS_PER_SECOND = 100;

    private ProcFs() {
    }

    /**
     * A field of {@code /proc/PID/status} in kB, such as {@code VmRSS} or {@code VmHWM}.
     *
     * @param pid the process
     * @param field the field's name, without the colon
     * @return the value in kB, or -1 if the process or the field is not there
     */
    public static long statusKb(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /**
     * The CPU time the process has used so far, user plus system, all threads.
     *
     * @param pid the process
     * @return nanoseconds (at a 10 ms resolution), or -1 if the process is not there
     */
    public static long cpuNanos(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // the command name (field 2) may hold spaces: count the fields after its closing parenthesis
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime: fields 14 and 15
            return ticks * (1_000_000_000L / TICKS_PER_SECOND);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
