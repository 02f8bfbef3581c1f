package dev.muster.roster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import org.junit.jupiter.api.Test;

/** --address against this machine's real interfaces (every Linux machine has lo with 127.0.0.1). */
class AddressChoiceTest {
    @Test
    void interfaceName_givesItsIpv4Address() {
        assertEquals(new AddressChoice("127.0.0.1", "lo"), AddressChoice.resolve("lo", "n1"));
    }

    @Test
    void cidr_givesTheAddressInRange_andItsInterface() {
        assertEquals(new AddressChoice("127.0.0.1", "lo"), AddressChoice.resolve("127.0.0.0/8", "n1"));
        assertTrue(AddressChoice.inCidr(java.net.InetAddress.getLoopbackAddress(), "127.0.0.0/8"));
        assertFalse(AddressChoice.inCidr(java.net.InetAddress.getLoopbackAddress(), "10.0.0.0/8"));
    }

    @Test
    void route_towardLoopback_isLo() {
        assertEquals(new AddressChoice("127.0.0.1", "lo"), AddressChoice.resolve("route", "n1", "127.0.0.1"));
    }

    @Test
    void noSuchInterface_isUsageError_listingTheInterfaces() {
        MusterException e = assertThrows(MusterException.class, () -> AddressChoice.resolve("nosuch0", "n1"));
        assertEquals(2, e.status());
        assertTrue(e.getMessage().contains(" lo (") && e.getMessage().contains("127.0.0.1/8"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    @Test
    void cidrMatchingNothing_isUsageError() {
        MusterException e = assertThrows(MusterException.class, () -> AddressChoice.resolve("203.0.113.0/24", "n1"));
        assertEquals(2, e.status());
        assertThrows(MusterException.class, () -> AddressChoice.resolve("10.0.0.0/x", "n1"));
    }

    @Test
    void node_resolvesTheNodeName_orKeepsIt() {
        assertEquals(new AddressChoice("127.0.0.1", null), AddressChoice.resolve(null, "localhost"));
        assertEquals(
                new AddressChoice("no-such-host.invalid", null), AddressChoice.resolve("node", "no-such-host.invalid"));
    }
}
