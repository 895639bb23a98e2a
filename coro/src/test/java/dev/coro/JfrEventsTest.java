package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.net.TcpListener;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Predicate;
import jdk.jfr.Configuration;
import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;
import jdk.jfr.SettingDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The JFR events, read back from recordings: every field of each, on the calling thread's scheduler. */
@ExtendWith(FreshThread.class)
class JfrEventsTest {

    @Test
    void parksRecordTheirReasonWaitAndCoroutine() throws Exception {
        List<RecordedEvent> parks = record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO).withStackTrace(), () -> {
            Channel<Integer> jobs = new Channel<>("jobs", 0);
            Coroutine receiver = Coroutine.create("receiver", () -> jobs.receive());
            receiver.switchTo();                          // parks on receive
            jobs.send(1);                                 // wakes it
            Coroutine.yield();                            // it runs to its end
            long before = Coroutine.nanoTime();
            Coroutine.sleep(Duration.ofMillis(30));       // main parks alone: the loop waits for the timer
            assertThat(Coroutine.nanoTime() - before).as("a sleep lasts at least its duration on the scheduler's clock")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(30).toNanos());
            Channel<Integer> idle = new Channel<>("idle", 0);
            String fired = new Select<String>().onReceive(idle, v -> "value")
                    .onTimeout(Duration.ofMillis(1), () -> "timeout").select();
            assertThat(fired).isEqualTo("timeout");
            CompletableFuture<String> f = new CompletableFuture<>();
            Coroutine.create("completer", () -> f.complete("done")); // runs once main parks in await
            assertThat(Coroutine.await(f)).isEqualTo("done");
            acceptOnce();
        }, "dev.coro.Park");
        assertThat(parks).extracting(e -> e.getString("coroutine") + " / " + e.getString("reason"))
                .containsExactly("receiver / channel", "main / sleep", "main / select", "main / thread",
                        "acceptor / io");
        assertThat(parks).extracting(e -> e.getLong("coroutineNumber")).containsExactly(1L, 0L, 0L, 0L, 3L);
        assertThat(parks.get(0).getString("waitsFor")).isEqualTo("receive from channel 'jobs'");
        assertThat(parks.get(1).getString("waitsFor")).startsWith("sleep 30.000 ms (");
        // the event's duration is on the recording's own clock, which need not agree with System.nanoTime()
        assertThat(parks.get(1).getDuration()).isPositive();
        assertThat(parks.get(2).getString("waitsFor")).startsWith("select over receive from channel 'idle', timeout PT0.001S");
        assertThat(parks.get(3).getString("waitsFor")).startsWith("await java.util.concurrent.CompletableFuture@");
        assertThat(parks.get(4).getString("waitsFor")).startsWith("accept on listener /127.0.0.1:");
        assertThat(parks.get(1).getStackTrace().getFrames()).extracting(RecordedFrame::getMethod)
                .extracting(m -> m.getType().getName() + "." + m.getName())
                .contains("dev.coro.Coroutine.sleep")
                .anyMatch(m -> m.startsWith("dev.coro.JfrEventsTest.lambda$parksRecordTheirReasonWaitAndCoroutine$"));
    }

    /**
     * The stack of a park starts with the library's own frames, four to eight of them, down to the
     * public call the context waited in, then the caller's: a {@code jfr print} needs a stack depth past
     * them to show where the program waited (docs/OBSERVING.md).
     */
    @Test
    void aParksStackShowsTheLibrarysFramesDownToThePublicCallItWaitedInThenTheCallers() throws Exception {
        List<RecordedEvent> parks = record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO).withStackTrace(), () -> {
            Channel<Integer> jobs = new Channel<>("jobs", 0);
            Coroutine.create("receiver", () -> jobs.receive()).switchTo();
            jobs.send(1);
            Coroutine.yield();
            Coroutine.sleep(Duration.ofMillis(1));
            new Select<String>().onReceive(new Channel<Integer>("idle", 0), v -> "value")
                    .onTimeout(Duration.ofMillis(1), () -> "timeout").select();
            CompletableFuture<String> f = new CompletableFuture<>();
            Coroutine.create("completer", () -> f.complete("done"));
            Coroutine.await(f);
        }, "dev.coro.Park");
        List<String> calls = List.of("dev.coro.Channel.receive", "dev.coro.Coroutine.sleep", "dev.coro.Select.select",
                "dev.coro.Coroutine.await");
        assertThat(parks).hasSize(calls.size());
        for (int i = 0; i < calls.size(); i++) {
            List<String> frames = parks.get(i).getStackTrace().getFrames().stream()
                    .map(fr -> fr.getMethod().getType().getName() + "." + fr.getMethod().getName()).toList();
            int call = frames.indexOf(calls.get(i));
            assertThat(call).as("where %s is in %s", calls.get(i), frames).isBetween(3, 7);
            assertThat(frames.subList(0, call)).as("the frames above the call").first().isEqualTo("dev.coro.Park.finish");
            assertThat(frames.subList(0, call)).as("the frames above the call")
                    .allMatch(m -> m.startsWith("dev.coro.") || m.startsWith("java.lang.invoke."));
            assertThat(frames.get(call + 1)).as("the caller's frame below %s", calls.get(i))
                    .startsWith("dev.coro.JfrEventsTest.lambda$aParksStackShowsTheLibrarysFramesDownToThePublicCallItWaitedInThenTheCallers$");
        }
        // the receiver's park, recorded as main's yield ran it again: below its body's entry, its virtual
        // thread's entry on the thread engine; on the continuation engine, the frames of main that ran it
        List<String> receiver = parks.get(0).getStackTrace().getFrames().stream()
                .map(fr -> fr.getMethod().getType().getName() + "." + fr.getMethod().getName()).toList();
        List<String> below = receiver.subList(receiver.indexOf("dev.coro.Context.runBody") + 1, receiver.size());
        if (Engines.running().equals("threads")) {
            assertThat(below).contains("dev.coro.ThreadEngine$ThreadStack.run").doesNotContain("dev.coro.Coroutine.yield");
        } else {
            assertThat(below).contains("jdk.internal.vm.Continuation.run", "dev.coro.Coroutine.yield");
        }
    }

    /**
     * A coroutine's park recorded as another coroutine's yield ran it again: on the continuation engine
     * main's stack runs every coroutine, so below the body's entry stand main's frames (its pending
     * {@code switchTo}), not those of the coroutine that ran it; on the thread engine, its own thread's entry.
     */
    @Test
    void aParkRecordedAsAnotherCoroutineRanItHasBelowItsBodyMainsPendingCallNotThatCoroutinesYield() throws Exception {
        List<RecordedEvent> parks = record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO).withStackTrace(), () -> {
            Channel<Integer> jobs = new Channel<>("jobs", 0);
            Coroutine.create("receiver", () -> jobs.receive()).switchTo();
            Coroutine sender = Coroutine.create("sender", () -> {
                jobs.send(1);
                Coroutine.yield(); // runs the receiver, woken by the send
            });
            sender.switchTo();
            sender.switchTo();
        }, "dev.coro.Park");
        assertThat(parks).hasSize(1);
        List<String> frames = parks.get(0).getStackTrace().getFrames().stream()
                .map(fr -> fr.getMethod().getType().getName() + "." + fr.getMethod().getName()).toList();
        assertThat(frames).as("the receiver's park").contains("dev.coro.Channel.receive");
        List<String> below = frames.subList(frames.indexOf("dev.coro.Context.runBody") + 1, frames.size());
        if (Engines.running().equals("threads")) {
            assertThat(below).contains("dev.coro.ThreadEngine$ThreadStack.run")
                    .doesNotContain("dev.coro.Coroutine.yield", "dev.coro.Coroutine.switchTo");
        } else {
            assertThat(below).contains("jdk.internal.vm.Continuation.run", "dev.coro.Coroutine.switchTo")
                    .doesNotContain("dev.coro.Coroutine.yield");
        }
    }

    /**
     * A park inside a generator's body names that generator after the wait, as a dump does: the channel
     * is the body's, not one of the parked context's own code's (on the thread engine the event's
     * stack does not even reach the context's code).
     */
    @Test
    void aParkInsideAGeneratorsBodyNamesTheGeneratorAfterItsWaitAsADumpDoes() throws Exception {
        String[] dumped = new String[1];
        List<RecordedEvent> parks = record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), () -> {
            Channel<String> input = new Channel<>("input", 0);
            Generator<String> lines = Generator.of("lines", out -> out.emit(input.receive()));
            Coroutine reader = Coroutine.create("reader", () -> lines.next());
            reader.switchTo(); // parks inside the body of 'lines'
            dumped[0] = Coroutine.dump();
            input.send("a line"); // wakes it
            Coroutine.yield(); // it runs to its end
            assertThat(reader.isFinished()).isTrue();
        }, "dev.coro.Park");
        assertThat(parks).extracting(e -> e.getString("coroutine") + " / " + e.getString("reason") + " / " + e.getString("waitsFor"))
                .containsExactly("reader / channel / receive from channel 'input', inside generator 'lines'");
        assertThat(dumped[0]).contains("[1] coroutine 'reader': PARKED, waits to " + parks.get(0).getString("waitsFor") + "\n");
    }

    @Test
    void aPoolThreadWaitingForWorkParksForThePool() throws Exception {
        String[] pool = new String[1];
        List<RecordedEvent> parks = record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), () -> {
            try (CoroutinePool p = CoroutinePool.start(1)) {
                pool[0] = PoolName.of(p);
                assertThat(p.submit(() -> "done").join()).isEqualTo("done");
            }
        }, t -> t.getJavaName().startsWith(pool[0] + "-"), "dev.coro.Park");
        assertThat(parks).as("the pool thread's main waited for the submission, or for the close, or both").isNotEmpty()
                .allSatisfy(e -> assertThat(e.getString("reason") + " / " + e.getString("waitsFor"))
                        .isIn("pool / take work from " + pool[0], "pool / end with " + pool[0] + ", which is closing"));
    }

    @Test
    void aWaitForAnOperationOnAnotherThreadsChannelParksForThatThread() throws Exception {
        CompletableFuture<Channel<String>> made = new CompletableFuture<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread owner = Thread.ofPlatform().name("owner").start(() -> {
            Channel<String> owned = new Channel<>("owned", 1);
            owned.send("v");
            made.complete(owned);
            Coroutine.await(done); // serves the receive of the test thread while it waits
        });
        String[] got = new String[1];
        try {
            Channel<String> ch = Coroutine.await(made);
            List<RecordedEvent> parks = record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO),
                    () -> got[0] = ch.receive(), "dev.coro.Park");
            assertThat(parks).extracting(e -> e.getString("coroutine") + " / " + e.getString("reason") + " / "
                    + e.getString("waitsFor")).containsExactly("main / thread / receive from channel 'owned' of thread 'owner' (#"
                    + owner.threadId() + ")");
        } finally {
            done.complete(null);
            owner.join();
        }
        assertThat(got[0]).isEqualTo("v");
    }

    /** A coroutine 'acceptor' parks in accept until main connects. */
    private static void acceptOnce() {
        try (TcpListener l = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            Coroutine acceptor = Coroutine.create("acceptor", () -> {
                try {
                    l.accept().close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            acceptor.switchTo();
            Thread client = Thread.ofPlatform().start(() -> {
                try (Socket s = new Socket()) {
                    s.connect(l.localAddress());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            while (!acceptor.isFinished()) {
                Coroutine.yield();
            }
            client.join();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void startsAndEndsRecordHowEachCoroutineEnded() throws Exception {
        List<RecordedEvent> events = record(r -> {
            r.enable("dev.coro.CoroutineStart").withStackTrace();
            r.enable("dev.coro.CoroutineEnd");
        }, () -> {
            Coroutine.create("finisher", () -> { }).switchTo();
            Coroutine failer = Coroutine.create("failer", () -> {
                throw new IllegalStateException("boom");
            });
            assertThatThrownBy(failer::switchTo).isInstanceOf(CoroutineException.class);
            Coroutine closed = Coroutine.create("closed", () -> {
                while (true) {
                    Coroutine.yield();
                }
            });
            closed.switchTo();
            closed.close();
        }, "dev.coro.CoroutineStart", "dev.coro.CoroutineEnd");
        assertThat(events).extracting(e -> e.getEventType().getName().substring(9) + " " + e.getString("coroutine"))
                .containsExactly("CoroutineStart finisher", "CoroutineEnd finisher", "CoroutineStart failer",
                        "CoroutineEnd failer", "CoroutineStart closed", "CoroutineEnd closed");
        assertThat(events).extracting(e -> e.getLong("coroutineNumber")).containsExactly(1L, 1L, 2L, 2L, 3L, 3L);
        assertThat(events.get(0).getString("creator")).isEqualTo("main");
        assertThat(events.get(0).getLong("creatorNumber")).isZero();
        assertThat(events.get(0).getStackTrace().getFrames()).extracting(f -> f.getMethod().getName())
                .contains("create").anyMatch(m -> m.startsWith("lambda$startsAndEndsRecordHowEachCoroutineEnded$"));
        assertThat(events.get(1).getString("ending")).isEqualTo("FINISHED");
        assertThat(events.get(1).getString("failure")).isEmpty();
        assertThat(events.get(3).getString("ending")).isEqualTo("FAILED");
        assertThat(events.get(3).getString("failure")).isEqualTo("java.lang.IllegalStateException: boom");
        assertThat(events.get(5).getString("ending")).isEqualTo("CLOSED");
    }

    /**
     * Coroutines of one name are told apart by their number, which no two live coroutines of a thread
     * share: each start pairs with its end by (scheduler thread, number), whatever order they end in;
     * a creator that is a coroutine is named by its number too.
     */
    @Test
    void coroutinesOfOneNameAreToldApartByTheirNumberWhichPairsEachStartWithItsEnd() throws Exception {
        List<RecordedEvent> events = record(r -> {
            r.enable("dev.coro.CoroutineStart");
            r.enable("dev.coro.CoroutineEnd");
            r.enable("dev.coro.Park").withThreshold(Duration.ZERO);
        }, () -> {
            Channel<Integer> gate = new Channel<>("gate", 0);
            Coroutine first = Coroutine.create("worker", () -> {
                Coroutine.create("worker", gate::receive).switchTo(); // the second, parked on the gate
                gate.receive();
            });
            first.switchTo();
            gate.send(1); // to the second, parked first
            gate.send(2);
            Coroutine.yield(); // the second runs to its end, then the first
            Coroutine.yield();
        }, "dev.coro.CoroutineStart", "dev.coro.CoroutineEnd", "dev.coro.Park");
        assertThat(events).extracting(e -> e.getEventType().getName().substring(9) + " " + e.getString("coroutine")
                        + " " + e.getLong("coroutineNumber"))
                .containsExactly("CoroutineStart worker 1", "CoroutineStart worker 2", "Park worker 2", "Park worker 1",
                        "CoroutineEnd worker 2", "CoroutineEnd worker 1");
        assertThat(events.get(0).getLong("creatorNumber")).isZero();
        assertThat(events.get(1).getString("creator")).isEqualTo("worker");
        assertThat(events.get(1).getLong("creatorNumber")).isEqualTo(1);
    }

    @Test
    void aCoroutineClosedBeforeItRanEndsClosedSoThatEveryStartHasItsEnd() throws Exception {
        List<RecordedEvent> events = record(r -> {
            r.enable("dev.coro.CoroutineStart");
            r.enable("dev.coro.CoroutineEnd");
        }, () -> {
            Coroutine never = Coroutine.create("never-ran", () -> { });
            never.close();
            assertThat(never.state()).isEqualTo(Coroutine.State.CLOSED);
        }, "dev.coro.CoroutineStart", "dev.coro.CoroutineEnd");
        assertThat(events).extracting(e -> e.getEventType().getName().substring(9) + " " + e.getString("coroutine"))
                .containsExactly("CoroutineStart never-ran", "CoroutineEnd never-ran");
        assertThat(events.get(1).getString("ending")).isEqualTo("CLOSED");
        assertThat(events.get(1).getString("failure")).isEmpty();
    }

    @Test
    @Timeout(30)
    void aCoroutineItsThreadLeavesUnfinishedHasItsStartAndNoEnd() throws Exception {
        List<String> states = new ArrayList<>();
        List<RecordedEvent> events = record(r -> {
            r.enable("dev.coro.CoroutineStart");
            r.enable("dev.coro.CoroutineEnd");
        }, () -> {
            try {
                assertThat(OtherThread.thrownOn("leaves", () -> {
                    Channel<Integer> never = new Channel<>("never", 0);
                    Coroutine left = Coroutine.create("left", never::receive);
                    left.switchTo();
                    Coroutine.create("finished", () -> { }).switchTo();
                    states.add(left.state().name());
                })).isNull(); // the thread ends with 'left' parked: nothing ends it
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, t -> "leaves".equals(t.getJavaName()), "dev.coro.CoroutineStart", "dev.coro.CoroutineEnd");
        assertThat(states).containsExactly("PARKED");
        assertThat(events).extracting(e -> e.getEventType().getName().substring(9) + " " + e.getString("coroutine"))
                .containsExactly("CoroutineStart left", "CoroutineStart finished", "CoroutineEnd finished");
    }

    @Test
    void statisticsCountTheContextsByStateWithTimersAndIoWaits() throws Exception {
        Channel<Integer> never = new Channel<>("never", 0);
        Coroutine.create("suspended", Coroutine::yield);
        Coroutine.create("parked", () -> never.receive());
        Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1)));
        try (TcpListener l = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            Coroutine.create("acceptor", () -> {
                try {
                    l.accept();
                } catch (IOException e) {
                    // closed at the end of the test
                }
            });
            Coroutine.yield(); // main runs acceptor, sleeper, parked (each parks), suspended (yields back)
            Coroutine.create("new", () -> { });
            long pointsBefore = Scheduler.current().schedulingPoints;
            List<RecordedEvent> stats = record(r -> r.enable("dev.coro.SchedulerStatistics").with("period", "endChunk"),
                    () -> { }, "dev.coro.SchedulerStatistics");
            assertThat(stats).hasSize(1);
            RecordedEvent e = stats.get(0);
            assertThat(e.getString("engine")).isEqualTo(Engines.running());
            assertThat(Map.of("contexts", e.getInt("contexts"), "created", e.getInt("created"),
                    "running", e.getInt("running"), "suspended", e.getInt("suspended"), "parked", e.getInt("parked"),
                    "timers", e.getInt("timers"), "ioWaits", e.getInt("ioWaits")))
                    .isEqualTo(Map.of("contexts", 6, "created", 1, "running", 1, "suspended", 1, "parked", 3,
                            "timers", 1, "ioWaits", 1));
            assertThat(e.getLong("schedulingPoints")).isEqualTo(pointsBefore);
        }
    }

    @Test
    void theShippedSettingsRecordParksPastTwentyMillisWithStacksAndLeaveStartsAndEndsOff() throws Exception {
        Configuration coro;
        try (Reader in = new InputStreamReader(Coroutine.class.getResourceAsStream("coro.jfc"), StandardCharsets.UTF_8)) {
            coro = Configuration.create(in);
        }
        assertThat(coro.getSettings()).containsEntry("dev.coro.Park#enabled", "true")
                .containsEntry("dev.coro.Park#threshold", "20 ms").containsEntry("dev.coro.Park#stackTrace", "true")
                .containsEntry("dev.coro.BlockedLoop#enabled", "true")
                .containsEntry("dev.coro.SchedulerStatistics#enabled", "true")
                .containsEntry("dev.coro.SchedulerStatistics#period", "1 s")
                .containsEntry("dev.coro.CoroutineStart#enabled", "false")
                .containsEntry("dev.coro.CoroutineEnd#enabled", "false");
        List<RecordedEvent> parks = record(r -> r.setSettings(coro.getSettings()),
                () -> Coroutine.sleep(Duration.ofMillis(25)), "dev.coro.Park");
        assertThat(parks).hasSize(1);
        assertThat(parks.get(0).getString("reason")).isEqualTo("sleep");
        assertThat(parks.get(0).getStackTrace()).isNotNull();
    }

    @Test
    void everyEventIsInTheCoroCategoryWithTheDefaultsOfItsAnnotations() {
        Scheduler.current(); // the JVM's first scheduler registers the event classes once Flight Recorder runs
        Map<String, EventType> types = new HashMap<>();
        for (EventType t : FlightRecorder.getFlightRecorder().getEventTypes()) {
            if (t.getName().startsWith("dev.coro.")) {
                types.put(t.getName(), t);
            }
        }
        assertThat(types.keySet()).containsExactlyInAnyOrder("dev.coro.Park", "dev.coro.BlockedLoop",
                "dev.coro.SchedulerStatistics", "dev.coro.CoroutineStart", "dev.coro.CoroutineEnd");
        for (EventType t : types.values()) {
            assertThat(t.getCategoryNames()).as(t.getName()).containsExactly("coro");
        }
        assertThat(defaults(types.get("dev.coro.Park"))).containsEntry("enabled", "true")
                .containsEntry("threshold", "20 ms").containsEntry("stackTrace", "true");
        assertThat(defaults(types.get("dev.coro.SchedulerStatistics"))).containsEntry("period", "everyChunk");
        assertThat(defaults(types.get("dev.coro.CoroutineStart"))).containsEntry("enabled", "false");
        assertThat(defaults(types.get("dev.coro.CoroutineEnd"))).containsEntry("enabled", "false");
        assertThat(defaults(types.get("dev.coro.BlockedLoop"))).containsEntry("enabled", "true");
    }

    private static Map<String, String> defaults(EventType t) {
        Map<String, String> m = new HashMap<>();
        for (SettingDescriptor d : t.getSettingDescriptors()) {
            m.put(d.getName(), d.getDefaultValue());
        }
        return m;
    }

    @Test
    void aParkRefusedWithADeadlockIsNoParkEvent() throws Exception {
        List<RecordedEvent> parks = record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), () -> {
            Channel<Integer> ch = new Channel<>("never", 0);
            assertThatThrownBy(ch::receive).isInstanceOf(DeadlockException.class);
            Coroutine.create("parks", () -> ch.receive()); // a park that happens, for contrast
            Coroutine.yield();
            ch.send(1); // hands it the value: it runs again, and main's send needs no park
            Coroutine.yield();
        }, "dev.coro.Park");
        assertThat(parks).extracting(e -> e.getString("coroutine") + " / " + e.getString("waitsFor"))
                .containsExactly("parks / receive from channel 'never'");
    }

    /**
     * Runs {@code body} under a recording set up by {@code enable}, and returns the events of the
     * given types whose scheduler thread is the calling thread, in the order they were committed.
     */
    static List<RecordedEvent> record(Consumer<Recording> enable, Runnable body, String... types) throws IOException {
        long me = Thread.currentThread().threadId();
        return record(enable, body, t -> t.getJavaThreadId() == me, types);
    }

    /** The events of {@code types} whose scheduler thread {@code thread} accepts, recorded while {@code body} runs. */
    static List<RecordedEvent> record(Consumer<Recording> enable, Runnable body, Predicate<RecordedThread> thread,
            String... types) throws IOException {
        Path file = Files.createTempFile("coro-test", ".jfr");
        try (Recording r = new Recording()) {
            enable.accept(r);
            r.start();
            body.run();
            r.stop();
            r.dump(file);
            List<String> wanted = List.of(types);
            return RecordingFile.readAllEvents(file).stream()
                    .filter(e -> wanted.contains(e.getEventType().getName()))
                    .filter(e -> e.getThread("schedulerThread") != null && thread.test(e.getThread("schedulerThread")))
                    .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime))
                    .toList();
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
