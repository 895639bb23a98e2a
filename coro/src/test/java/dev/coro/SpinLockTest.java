package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A shared channel's spin lock is reentrant: a thread that took it twice holds it until it gave back both holds. */
class SpinLockTest {

    @Test
    void aLockTakenTwiceIsHeldUntilItsSecondUnlock() {
        SpinLock lock = new SpinLock();
        Thread self = Thread.currentThread();
        assertThat(lock.holder()).isNull();
        lock.lock();
        lock.lock();
        assertThat(lock.holder()).as("taken twice").isSameAs(self);
        lock.unlock();
        assertThat(lock.holder()).as("after the inner unlock").isSameAs(self);
        lock.unlock();
        assertThat(lock.holder()).as("after the outer unlock").isNull();
    }

    @Test
    void aLockTakenThreeTimesIsHeldUntilItsThirdUnlockAndCanBeTakenAfresh() {
        SpinLock lock = new SpinLock();
        Thread self = Thread.currentThread();
        for (int round = 0; round < 2; round++) {
            lock.lock();
            lock.lock();
            lock.lock();
            lock.unlock();
            lock.unlock();
            assertThat(lock.holder()).as("round %d, one hold left", round).isSameAs(self);
            lock.unlock();
            assertThat(lock.holder()).as("round %d, every hold given back", round).isNull();
        }
    }
}
