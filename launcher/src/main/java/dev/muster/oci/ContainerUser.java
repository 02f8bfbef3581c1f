package dev.muster.oci;

import java.util.List;

/** {@code process.user} of a bundle's config.json: the ids the container's process runs with. */
public record ContainerUser(int uid, int gid, List<Integer> additionalGids) {
    public static final ContainerUser NONE = new ContainerUser(0, 0, List.of());

    public ContainerUser {
        additionalGids = List.copyOf(additionalGids);
    }
}
