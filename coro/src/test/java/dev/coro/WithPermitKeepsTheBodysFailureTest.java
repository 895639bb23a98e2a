package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A body run under {@link Semaphore#withPermit} or {@link Semaphore#callWithPermit} that throws keeps its
 * exception when giving the permit back fails too: the release's refusal is suppressed in it, as
 * try-with-resources suppresses a failing close, instead of being thrown in its place and losing it.
 */
@ExtendWith(FreshThread.class)
class WithPermitKeepsTheBodysFailureTest {

    private static final String REFUSED = "main context 'main' cannot release Semaphore[db, 1 of 1 permits free]: all its permits"
            + " are free already (more releases than acquires)";

    @Test
    @Timeout(10)
    void aCheckedExceptionOfABodyThatGaveItsPermitBackItselfComesOutWithTheRefusedReleaseSuppressed() {
        Semaphore db = new Semaphore("db", 1);
        IOException failed = new IOException("query failed");
        Throwable thrown = catchThrowable(() -> db.callWithPermit(() -> {
            db.release(); // a release too many, by mistake
            throw failed;
        }));
        assertThat(thrown).isSameAs(failed);
        assertThat(failed.getSuppressed()).hasSize(1);
        assertThat(failed.getSuppressed()[0]).isInstanceOf(IllegalStateException.class).hasMessage(REFUSED);
        assertThat(db.availablePermits()).isEqualTo(1);
    }

    @Test
    @Timeout(10)
    void anUncheckedExceptionOfABodyThatGaveItsPermitBackItselfComesOutWithTheRefusedReleaseSuppressed() {
        Semaphore db = new Semaphore("db", 1);
        IllegalArgumentException failed = new IllegalArgumentException("bad row");
        Throwable thrown = catchThrowable(() -> db.withPermit(() -> {
            db.release();
            throw failed;
        }));
        assertThat(thrown).isSameAs(failed);
        assertThat(failed.getSuppressed()).hasSize(1);
        assertThat(failed.getSuppressed()[0]).isInstanceOf(IllegalStateException.class).hasMessage(REFUSED);
        assertThat(db.availablePermits()).isEqualTo(1);
    }

    @Test
    @Timeout(10)
    void aBodyThatGaveItsPermitBackItselfAndReturnedHasTheRefusedReleaseThrown() {
        Semaphore db = new Semaphore("db", 1);
        Throwable thrown = catchThrowable(() -> db.withPermit(() -> {
            db.release();
            return "row";
        }));
        assertThat(thrown).isInstanceOf(IllegalStateException.class).hasMessage(REFUSED).hasNoSuppressedExceptions();
        assertThat(db.availablePermits()).isEqualTo(1);
    }
}
