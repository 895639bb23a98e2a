package dev.coro.bench.net;

import com.google.gson.JsonObject;
import java.util.Locale;

/**
 * What the load generator's idle mode measured: the server's resident memory before and while it holds N
 * idle connections, each of which has completed one echo (so the server has really set it up).
 *
 * @param server the server's label
 * @param rep the repetition number
 * @param forConnections the C of the timed run this measurement follows (the same server JVM)
 * @param idleConnections N, the connections held idle
 * @param rssBeforeKb the server's VmRSS before the idle connections were opened
 * @param rssIdleKb its VmRSS at the end of the hold, with all N open
 * @param rssPeakKb the largest VmRSS sampled during the hold
 * @param hwmKb the server's VmHWM (peak RSS of its whole life) at the end of the hold
 * @param holdSeconds how long the connections were held
 * @param errors connections lost (closed or reset by the server) or wrong echoes
 */
public record IdleResult(String server, int rep, int forConnections, int idleConnections, long rssBeforeKb,
                         long rssIdleKb, long rssPeakKb, long hwmKb, double holdSeconds, long errors) {

    /** @return the one-line JSON record the runner collects */
    public String json() {
        JsonObject o = new JsonObject();
        o.addProperty("kind", "idle");
        o.addProperty("server", server);
        o.addProperty("rep", rep);
        o.addProperty("connections", forConnections);
        o.addProperty("idle_connections", idleConnections);
        o.addProperty("rss_before_kb", rssBeforeKb);
        o.addProperty("rss_idle_kb", rssIdleKb);
        o.addProperty("rss_peak_kb", rssPeakKb);
        o.addProperty("hwm_kb", hwmKb);
        o.addProperty("hold_s", holdSeconds);
        o.addProperty("errors", errors);
        return o.toString();
    }

    /** @return a line for people */
    public String human() {
        return String.format(Locale.ROOT,
                "%-12s idle %d connections: RSS %.1f MiB (%.1f MiB before, +%.0f B per connection), peak %.1f MiB,"
                        + " errors %d",
                server, idleConnections, rssIdleKb / 1024.0, rssBeforeKb / 1024.0,
                idleConnections == 0 ? 0 : (rssIdleKb - rssBeforeKb) * 1024.0 / idleConnections,
                rssPeakKb / 1024.0, errors);
    }
}
