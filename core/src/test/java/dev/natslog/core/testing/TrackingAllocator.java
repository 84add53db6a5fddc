package dev.natslog.core.testing;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/** An allocator that remembers every buffer it made, so a test can check that the code released them all. */
public final class TrackingAllocator extends AbstractByteBufAllocator {
    private final List<ByteBuf> buffers = new ArrayList<>();

    public TrackingAllocator() {
        super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(final int initialCapacity, final int maxCapacity) {
        final ByteBuf b = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
        buffers.add(b);
        return b;
    }

    @Override
    protected ByteBuf newDirectBuffer(final int initialCapacity, final int maxCapacity) {
        final ByteBuf b = new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
        buffers.add(b);
        return b;
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    /** @return buffers made so far. */
    public int allocations() {
        return buffers.size();
    }

    /** @return buffers made and not yet released. */
    public long live() {
        return buffers.stream().filter(b -> b.refCnt() > 0).count();
    }

    /** Fails the test when a buffer is still held. */
    public void assertAllReleased() {
        if (live() > 0) {
            fail(live() + " of " + buffers.size() + " buffers were not released");
        }
    }
}
