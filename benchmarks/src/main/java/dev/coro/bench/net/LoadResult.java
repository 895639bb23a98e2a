package dev.coro.bench.net;

import com.google.gson.JsonObject;
import java.util.Locale;

/**
 * What one timed run of the load generator measured: throughput, latency percentiles and fairness over
 * the measured window, plus the CPU both sides used in it.
 *
 * @param server the server's label (as the runner names it)
 * @param rep the repetition number (the runner's, 1-based)
 * @param connections C, the number of closed-loop connections
 * @param warmupSeconds the warm-up window
 * @param measuredSeconds the measured window, as it really lasted
 * @param requests echoes completed in the measured window
 * @param meanNanos mean latency of those echoes (about C / throughput, by Little's law: the starvation
 *     threshold only separates unfair service from fair queueing when it is well above this)
 * @param p50Nanos median latency of those echoes
 * @param p99Nanos 99th percentile
 * @param p999Nanos 99.9th percentile
 * @param maxNanos the longest completed echo
 * @param worstWaitNanos the longest wait, counting requests still unanswered when the window closed
 * @param starved connections that went a whole sub-window with no completed request, or waited longer
 *     than the starvation threshold once
 * @param subWindowMillis the sub-window length
 * @param starveMillis the starvation threshold
 * @param errors wrong or extra echo bytes, and connections the server closed or reset
 * @param connectMillis how long opening the C connections took
 * @param serverCpuNanos the server process's CPU time in the measured window (-1 if unknown)
 * @param clientCpuNanos the load generator's own CPU time in the measured window (-1 if unknown)
 */
public record LoadResult(String server, int rep, int connections, double warmupSeconds, double measuredSeconds,
                         long requests, long meanNanos, long p50Nanos, long p99Nanos, long p999Nanos, long maxNanos,
                         long worstWaitNanos, int starved, long subWindowMillis, long starveMillis, long errors,
                         long connectMillis, long serverCpuNanos, long clientCpuNanos) {

    /** @return completed echoes per second of the measured window */
    public double requestsPerSecond() {
        return measuredSeconds > 0 ? requests / measuredSeconds : 0;
    }

    /** @return the one-line JSON record the runner collects */
    public String json() {
        JsonObject o = new JsonObject();
        o.addProperty("kind", "load");
        o.addProperty("server", server);
        o.addProperty("rep", rep);
        o.addProperty("connections", connections);
        o.addProperty("warmup_s", warmupSeconds);
        o.addProperty("measured_s", round(measuredSeconds, 3));
        o.addProperty("requests", requests);
        o.addProperty("requests_per_s", round(requestsPerSecond(), 1));
        o.addProperty("mean_us", micros(meanNanos));
        o.addProperty("p50_us", micros(p50Nanos));
        o.addProperty("p99_us", micros(p99Nanos));
        o.addProperty("p999_us", micros(p999Nanos));
        o.addProperty("max_us", micros(maxNanos));
        o.addProperty("worst_wait_us", micros(worstWaitNanos));
        o.addProperty("starved", starved);
        o.addProperty("sub_window_ms", subWindowMillis);
        o.addProperty("starve_ms", starveMillis);
        o.addProperty("errors", errors);
        o.addProperty("connect_ms", connectMillis);
        o.addProperty("server_cpu_s", serverCpuNanos < 0 ? -1 : round(serverCpuNanos / 1e9, 3));
        o.addProperty("client_cpu_s", clientCpuNanos < 0 ? -1 : round(clientCpuNanos / 1e9, 3));
        o.addProperty("server_cpu_us_per_request",
                serverCpuNanos < 0 || requests == 0 ? -1 : round(serverCpuNanos / 1e3 / requests, 3));
        return o.toString();
    }

    /** @return a line for people */
    public String human() {
        return String.format(Locale.ROOT,
                "%-12s C=%-5d %,12.0f req/s  p50 %8.1f us  p99 %9.1f us  max %9.1f us  worst wait %8.1f ms"
                        + "  starved %d/%d  errors %d  server CPU %.2f s  client CPU %.2f s",
                server, connections, requestsPerSecond(), p50Nanos / 1e3, p99Nanos / 1e3, maxNanos / 1e3,
                worstWaitNanos / 1e6, starved, connections, errors, serverCpuNanos / 1e9, clientCpuNanos / 1e9);
    }

    private static double micros(long nanos) {
        return round(nanos / 1e3, 1);
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
