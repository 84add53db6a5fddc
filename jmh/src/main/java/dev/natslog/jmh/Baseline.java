package dev.natslog.jmh;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the baselines of the benchmarks share: the container's metadata of every event, and protobuf-java's view of
 * dockerd's {@code LogEntry} (with its {@code PartialLogEntryMetadata}), built from a descriptor at run time — no
 * generated code.
 */
public final class Baseline {
    /** dockerd's {@code LogEntry}. */
    static final Descriptor LOG_ENTRY;
    /** Its {@code partial_log_metadata}. */
    static final Descriptor PARTIAL_METADATA;

    static {
        final FileDescriptorProto file = FileDescriptorProto.newBuilder().setName("entry.proto").setSyntax("proto3")
            .addMessageType(DescriptorProto.newBuilder().setName("PartialLogEntryMetadata")
                .addField(field("last", 1, FieldDescriptorProto.Type.TYPE_BOOL, null))
                .addField(field("id", 2, FieldDescriptorProto.Type.TYPE_STRING, null))
                .addField(field("ordinal", 3, FieldDescriptorProto.Type.TYPE_INT32, null)))
            .addMessageType(DescriptorProto.newBuilder().setName("LogEntry")
                .addField(field("source", 1, FieldDescriptorProto.Type.TYPE_STRING, null))
                .addField(field("time_nano", 2, FieldDescriptorProto.Type.TYPE_INT64, null))
                .addField(field("line", 3, FieldDescriptorProto.Type.TYPE_BYTES, null))
                .addField(field("partial", 4, FieldDescriptorProto.Type.TYPE_BOOL, null))
                .addField(field("partial_log_metadata", 5, FieldDescriptorProto.Type.TYPE_MESSAGE,
                    ".PartialLogEntryMetadata")))
            .build();
        try {
            final FileDescriptor fd = FileDescriptor.buildFrom(file, new FileDescriptor[0]);
            LOG_ENTRY = fd.findMessageTypeByName("LogEntry");
            PARTIAL_METADATA = fd.findMessageTypeByName("PartialLogEntryMetadata");
        } catch (final DescriptorValidationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Baseline() {
    }

    /** @return the six metadata fields of every event of the benchmarks' container, in the event's order. */
    public static Map<String, String> metadata() {
        final Map<String, String> meta = new LinkedHashMap<>();
        meta.put("container_id", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        meta.put("container_name", "web");
        meta.put("image_id", "sha256:3650cccccccccccccccccccccccccccccccccccccccccccccccccccccccc6cc");
        meta.put("image_name", "nginx:1.27");
        meta.put("hostname", "h1");
        meta.put("tag", "0123456789ab");
        return meta;
    }

    private static FieldDescriptorProto field(final String name, final int number, final FieldDescriptorProto.Type type,
                                              final String typeName) {
        final FieldDescriptorProto.Builder b = FieldDescriptorProto.newBuilder().setName(name).setNumber(number)
            .setType(type);
        return null == typeName ? b.build() : b.setTypeName(typeName).build();
    }
}
