package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading /proc/self/mountinfo: the mount holding a path, its type, source and options, and what they mean. */
class MountInfoTest {
    private static final List<String> MOUNTS = List.of(
            "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro",
            "30 22 0:40 / /shared rw,relatime shared:2 - nfs4 srv:/export rw,vers=4.2,acregmin=3,lookupcache=pos",
            "31 30 0:41 / /shared/scratch rw - lustre 10.0.0.1@tcp:/fs rw,flock",
            "32 22 0:42 / /shared2 rw - tmpfs tmpfs rw",
            "33 22 0:43 / /with\\040space rw,noatime - xfs /dev/my\\134disk rw",
            "garbage",
            "34 22 0:44 / /short rw - tmpfs",
            "35 22 0:45 / /nodash rw tmpfs none rw");

    private static MountInfo of(String path) {
        return MountInfo.of(Path.of(path), MOUNTS);
    }

    @Test
    void longestMountPointPrefix_wins_onlyAtAPathComponentBoundary() {
        assertEquals("/shared/scratch", of("/shared/scratch/a/b").mountPoint());
        assertEquals("lustre", of("/shared/scratch").type());
        assertEquals("/shared", of("/shared/x").mountPoint());
        assertEquals("/shared", of("/shared").mountPoint());
        assertEquals("/", of("/shared2x").mountPoint(), "/shared2 is not a prefix of /shared2x's components");
        assertEquals("/", of("/home/u").mountPoint());
        assertEquals("/", of("/").mountPoint());
        assertEquals("ext4", of("/home").type());
        assertEquals("/dev/sda1", of("/home").source());
    }

    @Test
    void optionsOfTheMountAndTheSuperBlock_mergeInOrder() {
        MountInfo m = of("/shared/f");
        assertEquals("srv:/export", m.source());
        assertEquals(
                Map.of("rw", "", "relatime", "", "vers", "4.2", "acregmin", "3", "lookupcache", "pos"), m.options());
        assertEquals(
                List.of("rw", "relatime", "vers", "acregmin", "lookupcache"),
                List.copyOf(m.options().keySet()));
    }

    @Test
    void octalEscapes_inMountPointAndSource_areDecoded() {
        MountInfo m = of("/with space/f");
        assertEquals("/with space", m.mountPoint());
        assertEquals("/dev/my\\disk", m.source());
        assertEquals("xfs", m.type());
    }

    @Test
    void anEscapeAsTheFirstCharacter_isDecodedToo() {
        // a FUSE source may be any string: bindfs's is the path it mirrors, " x" here
        MountInfo m = MountInfo.of(Path.of("/m/f"), List.of("40 22 0:50 / /m rw - fuse.bindfs \\040x rw"));
        assertEquals(" x", m.source());
    }

    @Test
    void linesWithoutTypeOrSeparator_areSkipped() {
        assertEquals("/", of("/short/x").mountPoint(), "no source after the type");
        assertEquals("/", of("/nodash/x").mountPoint(), "no '-' separator");
        assertNull(MountInfo.of(Path.of("/x"), List.of("garbage", "1 2 3 4 5 6 7")));
        MountInfo sbOptionsMissing = MountInfo.of(Path.of("/x"), List.of("22 1 8:1 / / rw,relatime - ext4 /dev/sda1"));
        assertNotNull(sbOptionsMissing);
        assertEquals(Map.of("rw", "", "relatime", ""), sbOptionsMissing.options());
    }

    @Test
    void aLaterMountOnTheSameMountPoint_isTheOneOnTop() {
        List<String> over = List.of(
                "22 1 8:1 / / rw - ext4 /dev/sda1 rw",
                "40 22 0:50 / /sync rw - nfs srv:/a rw",
                "41 40 0:51 / /sync rw - tmpfs tmpfs rw");
        assertEquals("tmpfs", MountInfo.of(Path.of("/sync/k"), over).type());
    }

    @Test
    void scope_andNfs_byType() {
        assertEquals("shared", of("/shared/x").scope());
        assertTrue(of("/shared/x").nfs());
        assertEquals("shared", of("/shared/scratch").scope());
        assertFalse(of("/shared/scratch").nfs());
        assertEquals("node-local", of("/shared2").scope());
        assertEquals("node-local", of("/").scope());
        assertEquals("unknown", new MountInfo("/m", "fuse.foo", "s", Map.of()).scope());
        assertTrue(new MountInfo("/m", "nfs", "s", Map.of()).nfs());
        assertFalse(new MountInfo("/m", "nfsd", "s", Map.of()).nfs());
    }

    @Test
    void ofARealPath_findsThisProcessesMount_orItsNearestExistingAncestor(@org.junit.jupiter.api.io.TempDir Path t) {
        MountInfo here = MountInfo.of(t);
        assertNotNull(here, "/proc/self/mountinfo is readable on Linux");
        assertTrue(t.toString().startsWith(here.mountPoint()), here.toString());
        assertEquals(here, MountInfo.of(t.resolve("not/yet/made")));
    }

    @Test
    void optionWithoutAName_isKeptWhole() {
        MountInfo m = MountInfo.of(Path.of("/m/x"), List.of("36 22 0:46 / /m rw,=odd - tmpfs tmpfs rw"));
        assertEquals(Map.of("rw", "", "=odd", ""), m.options());
    }

    @Test
    void escapeCutShortAtTheEnd_isKeptLiterally() {
        List<String> mounts =
                List.of("22 1 8:1 / / rw - ext4 /dev/sda1 rw", "36 22 0:46 / /odd\\04 rw - tmpfs src\\0 rw");
        MountInfo m = MountInfo.of(Path.of("/odd\\04/x"), mounts);
        assertEquals("/odd\\04", m.mountPoint());
        assertEquals("src\\0", m.source());
    }
}
