package dev.natslog.core.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Random;
import java.util.function.Consumer;

/** Feeds a byte stream to a decoder in reads of random sizes, as a FIFO would deliver it. */
public final class Feeder {
    private Feeder() {
    }

    /**
     * @param stream  the bytes.
     * @param random  chooses the read sizes.
     * @param maxRead largest read.
     * @param decoder gets each read; it must consume it.
     */
    public static void feed(final byte[] stream, final Random random, final int maxRead, final Consumer<ByteBuf> decoder) {
        // one reused direct buffer with a non-zero reader index, like a reader's read buffer
        final ByteBuf read = Unpooled.directBuffer(maxRead + 7);
        try {
            int pos = 0;
            while (pos < stream.length) {
                final int n = Math.min(stream.length - pos, 1 + random.nextInt(maxRead));
                read.clear().writeZero(7).skipBytes(7);
                read.writeBytes(stream, pos, n);
                decoder.accept(read);
                if (read.isReadable()) {
                    throw new AssertionError("decoder left " + read.readableBytes() + " bytes unread");
                }
                pos += n;
            }
        } finally {
            read.release();
        }
    }
}
