package dev.muster.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.muster.core.MusterException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HandoverTest {
    @Test
    void encodeThenRead_givesTheSameHandover_andLeavesTheRestOfTheStream() throws Exception {
        UserSwitch.Handover h =
                new UserSwitch.Handover(65534, "c-1", Map.of("SLURM_PROCID", "3", "X", "a\"b\\c\nd", "Ü", "\u0001"));
        ByteArrayInputStream in = new ByteArrayInputStream((h.encode() + "rest").getBytes(StandardCharsets.UTF_8));
        assertEquals(h, UserSwitch.Handover.read(in));
        assertEquals('r', in.read());
    }

    @Test
    void noHandover_isAUsageError() {
        for (String s : new String[] {"", "{\"uid\":1}\n", "not json\n"}) {
            MusterException e = assertThrows(
                    MusterException.class,
                    () -> UserSwitch.Handover.read(new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8))));
            assertEquals(2, e.status());
        }
    }
}
