package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The cuts that make a suspended context's frames engine-neutral, on raw frames made up for each
 * case: the context's stack hands them out as an engine's would.
 */
@ExtendWith(FreshThread.class)
class StackTracesTest {

    /** A frame of {@code className.method}. */
    private static StackTraceElement at(String className, String method) {
        return new StackTraceElement(className, method, null, -1);
    }

    /** {@code frames} as {@code Class.method} strings, e.g. {@code "dev.coro.Coroutine.yield"}. */
    private static List<String> names(StackTraceElement[] frames) {
        return Arrays.stream(frames).map(f -> f.getClassName() + "." + f.getMethodName()).toList();
    }

    /** What {@link StackTraces#of} makes of a suspended context whose stack has the frames {@code raw}, innermost first. */
    private static List<String> cut(String... raw) {
        StackTraceElement[] frames = Arrays.stream(raw).map(s -> {
            int dot = s.lastIndexOf('.');
            return at(s.substring(0, dot), s.substring(dot + 1));
        }).toArray(StackTraceElement[]::new);
        Context c = new Context(Scheduler.current(), null, "made-up", 1, () -> { });
        c.stack = new Stack() {
            @Override
            public void transferTo(Stack to) {
                throw new AssertionError("never runs");
            }

            @Override
            public void resume() {
                throw new AssertionError("never runs");
            }

            @Override
            public StackTraceElement[] frames() {
                return frames.clone();
            }
        };
        return names(StackTraces.of(c));
    }

    @Test
    void theSwitchOnTopGivesWayToTheCallTheUserMadeAndTheEntryBelowTheBodyGoes() {
        assertThat(cut(
                "jdk.internal.vm.Continuation.yield0",
                "jdk.internal.vm.Continuation.yield",
                "dev.coro.ContinuationEngine$CoroutineStack.transferTo",
                "dev.coro.Scheduler.transfer",
                "dev.coro.Scheduler.yieldToPrevious",
                "dev.coro.Coroutine.yield",
                "app.Work.step",
                "app.Work.lambda$run$0",
                "dev.coro.Context.runBody",
                "dev.coro.Scheduler.runToEnd",
                "dev.coro.ContinuationEngine$CoroutineStack.lambda$static$0",
                "jdk.internal.vm.Continuation.enter0",
                "jdk.internal.vm.Continuation.enter"))
                .containsExactly("dev.coro.Coroutine.yield", "app.Work.step", "app.Work.lambda$run$0");
    }

    @Test
    void theOutermostCallOfThePublicApiIsKeptButNotALambdaOfIt() {
        assertThat(cut(
                "dev.coro.Scheduler.park",
                "dev.coro.Channel.await",
                "dev.coro.Channel.receiveOrNull",
                "dev.coro.Channel.receive",
                "dev.coro.Coroutine.lambda$create$0",
                "app.Consumer.run"))
                .containsExactly("dev.coro.Channel.receive", "app.Consumer.run");
    }

    @Test
    void jdkFramesOutwardOfTheLibrarysAreTheUsersAndStay() {
        assertThat(cut(
                "java.util.concurrent.locks.LockSupport.park",
                "dev.coro.Turn.await",
                "dev.coro.Channel.receive",
                "java.util.Iterator.forEachRemaining",
                "sun.misc.Helper.call",
                "app.Consumer.run",
                "java.lang.Thread.run"))
                .containsExactly("dev.coro.Channel.receive", "java.util.Iterator.forEachRemaining",
                        "sun.misc.Helper.call", "app.Consumer.run");
    }

    @Test
    void jdkFramesBetweenTheUsersOwnAreKeptOnceAndNothingElseComesBack() {
        assertThat(cut(
                "dev.coro.Scheduler.yieldToPrevious",
                "dev.coro.Coroutine.yield",
                "app.Work.lambda$step$0",
                "java.util.ArrayList.forEach",
                "app.Work.step",
                "dev.coro.Context.runBody"))
                .containsExactly("dev.coro.Coroutine.yield", "app.Work.lambda$step$0", "java.util.ArrayList.forEach",
                        "app.Work.step");
    }

    @Test
    void aCoroutineSuspendedInsideAJdkCallbackShowsEachOfItsFramesOnce() {
        Coroutine c = Coroutine.create("in-callback", () -> new java.util.ArrayList<>(List.of(1)).forEach(i -> Coroutine.yield()));
        c.switchTo();
        List<String> frames = names(c.stackTrace());
        List<String> dump = Coroutine.dump().lines().dropWhile(l -> !l.contains("'in-callback'")).skip(1)
                .filter(l -> l.startsWith("        ")).toList();
        c.switchTo();
        assertThat(frames).containsExactly("dev.coro.Coroutine.yield",
                "dev.coro.StackTracesTest.lambda$aCoroutineSuspendedInsideAJdkCallbackShowsEachOfItsFramesOnce$1",
                "java.util.ArrayList.forEach",
                "dev.coro.StackTracesTest.lambda$aCoroutineSuspendedInsideAJdkCallbackShowsEachOfItsFramesOnce$0");
        assertThat(dump).as("its top three frames, then how many more").hasSize(4)
                .allMatch(l -> !l.contains("Scheduler") && !l.contains("Engine"));
        assertThat(dump.get(2)).contains("java.util.ArrayList.forEach");
        assertThat(dump.get(3)).isEqualTo("        ... 1 more");
    }

    @Test
    void aCoroutineMadeWithAnArgumentShowsNoFrameOfHowItsBodyIsEntered() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine lambda = Coroutine.create("lambda", (Integer x) -> Coroutine.yield(), 5);
        Coroutine reference = Coroutine.create("reference", ch::send, 7); // the library's own method: its call stands
        lambda.switchTo();
        List<String> lambdaFrames = names(lambda.stackTrace());
        String lambdaDump = Coroutine.dump();
        lambda.close();
        reference.switchTo();
        List<String> referenceFrames = names(reference.stackTrace());
        String dump = lambdaDump + Coroutine.dump();
        reference.close();
        assertThat(lambdaFrames).hasSize(2).first().isEqualTo("dev.coro.Coroutine.yield");
        assertThat(lambdaFrames.get(1)).startsWith("dev.coro.StackTracesTest.lambda$aCoroutineMadeWithAnArgumentShowsNoFrameOfHowItsBodyIsEntered$");
        assertThat(referenceFrames).containsExactly("dev.coro.Channel.send");
        assertThat(dump).doesNotContain("WithArgument");
    }

    @Test
    void aCoroutineParkedInAForEachOverAChannelShowsTheIteratorsCall() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine reader = Coroutine.create("reader", () -> {
            for (int v : ch) {
                throw new AssertionError("nothing is sent: " + v);
            }
        });
        Coroutine.yield();
        List<String> frames = names(reader.stackTrace());
        reader.close();
        assertThat(frames).hasSize(2).first().isEqualTo("dev.coro.Channel$Receiving.hasNext");
        assertThat(frames.get(1)).startsWith("dev.coro.StackTracesTest.lambda$aCoroutineParkedInAForEachOverAChannelShowsTheIteratorsCall$");
    }

    @Test
    void aParkedSelectShowsTheSelectCallItWaitsInAndNoneOfItsMachinery() {
        VirtualTime.run(() -> {
            Channel<String> ch = new Channel<>("ch", 0);
            Channel<String> inner = new Channel<>("inner", 0);
            Coroutine biased = Coroutine.create("biased", () -> new Select<String>().onReceive(ch, v -> v).select());
            Coroutine unbiased = Coroutine.create("unbiased", () -> new Select<String>().onReceive(ch, v -> v).selectUnbiased());
            Coroutine inClause = Coroutine.create("in-clause", () -> new Select<String>()
                    .onDefault(() -> inner.receive()).select()); // the default clause's function parks in a receive
            Coroutine.yield();
            List<String> biasedFrames = names(biased.stackTrace());
            List<String> unbiasedFrames = names(unbiased.stackTrace());
            List<String> inClauseFrames = names(inClause.stackTrace());
            String dump = Coroutine.dump();
            biased.close();
            unbiased.close();
            inClause.close();
            String body = "dev.coro.StackTracesTest.lambda$aParkedSelectShowsTheSelectCallItWaitsInAndNoneOfItsMachinery$";
            assertThat(biasedFrames).hasSize(2).first().isEqualTo("dev.coro.Select.select");
            assertThat(biasedFrames.get(1)).startsWith(body);
            assertThat(unbiasedFrames).hasSize(2).first().isEqualTo("dev.coro.Select.selectUnbiased");
            assertThat(unbiasedFrames.get(1)).startsWith(body);
            assertThat(inClauseFrames).hasSize(4).first().isEqualTo("dev.coro.Channel.receive");
            assertThat(inClauseFrames.get(1)).as("the clause's function").startsWith(body);
            assertThat(inClauseFrames.get(2)).isEqualTo("dev.coro.Select.select");
            assertThat(inClauseFrames.get(3)).startsWith(body);
            assertThat(dump).doesNotContain("Select.run", "Select.lambda");
        });
    }

    @Test
    void whereAGeneratorsBodyIsEnteredTheConsumersCallStands() {
        assertThat(cut(
                "dev.coro.Scheduler.yieldToPrevious",
                "dev.coro.Coroutine.yield",
                "app.Body.produce",
                "dev.coro.Generator.lambda$new$0",
                "dev.coro.GeneratorContinuation.lambda$new$0",
                "jdk.internal.vm.Continuation.enter",
                "jdk.internal.vm.Continuation.run",
                "dev.coro.GeneratorContinuation.resume",
                "dev.coro.Generator.resume",
                "dev.coro.Generator.hasNext",
                "dev.coro.Generator.next",
                "app.Consumer.take",
                "dev.coro.Context.runBody"))
                .containsExactly("dev.coro.Coroutine.yield", "app.Body.produce", "dev.coro.Generator.next",
                        "app.Consumer.take");
    }

    @Test
    void anApiCallThatIsTheInnermostFrameIsKept() {
        assertThat(cut("dev.coro.Coroutine.yield", "app.Work.run"))
                .containsExactly("dev.coro.Coroutine.yield", "app.Work.run");
    }

    /**
     * A call of a function the user handed the library ends a run of machinery: a reference to the library's own
     * method keeps its call above the call it was handed to, and JDK frames the function called before the
     * user's code (a stream's count) stay, as between two of the user's frames.
     */
    @Test
    void aCallOfAFunctionTheUserHandedTheLibraryEndsARunOfMachinery() {
        assertThat(cut(
                "dev.coro.Scheduler.park",
                "dev.coro.Channel.receive",
                "dev.coro.Callback.get",
                "dev.coro.Scheduler.withTimeout",
                "dev.coro.Coroutine.withTimeout",
                "app.Work.run",
                "dev.coro.Context.runBody"))
                .containsExactly("dev.coro.Channel.receive", "dev.coro.Coroutine.withTimeout", "app.Work.run");
        assertThat(cut(
                "dev.coro.Scheduler.park",
                "dev.coro.Channel.receive",
                "app.Work.lambda$run$0",
                "java.util.stream.ReferencePipeline$3$1.accept",
                "java.util.stream.ReferencePipeline.count",
                "dev.coro.Callback.get",
                "dev.coro.Scheduler.withTimeout",
                "dev.coro.Coroutine.withTimeout",
                "app.Work.run",
                "dev.coro.Context.runBody"))
                .containsExactly("dev.coro.Channel.receive", "app.Work.lambda$run$0", "java.util.stream.ReferencePipeline$3$1.accept",
                        "java.util.stream.ReferencePipeline.count", "dev.coro.Coroutine.withTimeout", "app.Work.run");
        assertThat(cut(
                "dev.coro.Scheduler.park",
                "dev.coro.Channel.receive",
                "dev.coro.Callback.call",
                "dev.coro.Semaphore.callWithPermit",
                "dev.coro.Semaphore.withPermit",
                "dev.coro.Coroutine.lambda$new$0",
                "dev.coro.Context.runBody"))
                .as("a body that is a reference given a reference, create(db::withPermit, rows::receive): no frame of the user's")
                .containsExactly("dev.coro.Channel.receive", "dev.coro.Semaphore.withPermit");
    }

    @Test
    void aRunOfMachineryWithoutAnApiCallGoesEntirely() {
        assertThat(cut("dev.coro.Scheduler.park", "dev.coro.Fiber.exit", "app.Work.run", "dev.coro.Context.runBody"))
                .containsExactly("app.Work.run");
    }

    @Test
    void framesThatAreAllMachineryOrJdkLeaveNothing() {
        assertThat(cut("dev.coro.Scheduler.transfer", "java.lang.Thread.run")).isEmpty();
        assertThat(cut()).isEmpty();
    }

    @Test
    void aPlatformThreadsMainLookingForAnInitializerDeadlockAsItWaitsForTheTurnShowsNoneOfTheLook() {
        // the thread engine: main, waiting a while for the turn that a body's thread holds, reads that
        // thread's frames, and the JDK retries while the virtual thread mounts or unmounts
        assertThat(cut(
                "java.lang.Thread.yield0",
                "java.lang.Thread.yield",
                "java.lang.VirtualThread.asyncGetStackTrace",
                "java.lang.Thread.getStackTrace",
                "dev.coro.InitializerDeadlock.check",
                "dev.coro.ThreadEngine$ThreadStack.checkStall",
                "dev.coro.Turn.await",
                "dev.coro.Turn.await",
                "dev.coro.ThreadEngine$ThreadStack.transferTo",
                "dev.coro.Scheduler.transfer",
                "dev.coro.Scheduler.parkOnLoop",
                "dev.coro.PoolWorker.run",
                "java.lang.Thread.run")).isEmpty();
        // and its walk of that thread's frames, which it looks through for a class initializer
        assertThat(cut(
                "java.lang.StackWalker.walk",
                "dev.coro.InitializerDeadlock.initializingHost",
                "dev.coro.InitializerDeadlock.check",
                "dev.coro.InitializerDeadlock.check",
                "dev.coro.ThreadEngine$ThreadStack.checkStall",
                "dev.coro.Turn.await",
                "dev.coro.Coroutine.yield",
                "app.Main.main")).containsExactly("dev.coro.Coroutine.yield", "app.Main.main");
    }

    @Test
    void theUsersOwnFramesAreKeptWhateverTheyAreCalled() {
        assertThat(cut("app.Coroutine.yield", "dev.coro.example.Main.run", "$Weird.name", "dev.corox.Scheduler.park"))
                .containsExactly("app.Coroutine.yield", "dev.coro.example.Main.run", "$Weird.name", "dev.corox.Scheduler.park");
    }

    @Test
    void mainRunningOnItsOwnStackHasNoFramesBelowATrampoline() {
        Coroutine.create("ended", () -> { }).switchTo();
        assertThat(StackTraces.belowTrampoline()).as("main runs its own code: no trampoline is under it").isEmpty();
    }
}
