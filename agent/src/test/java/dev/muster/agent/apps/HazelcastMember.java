package dev.muster.agent.apps;

import com.hazelcast.cluster.InitialMembershipEvent;
import com.hazelcast.cluster.InitialMembershipListener;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.config.Config;
import com.hazelcast.config.ListenerConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Hazelcast member as an application would write it: the configuration {@code Hazelcast.newHazelcastInstance()}
 * loads by itself ({@code Config.load()}: the default file and {@code hz.*} system properties), no member list. It waits until it has seen a cluster of {@code args[0]} members or
 * {@code args[1]} seconds have passed, prints the largest cluster it saw and its own address, and leaves.
 *
 * <p>A membership listener, not polling, keeps the largest size: the first member to leave shrinks the others'
 * view, and a poll could miss the moment all were there. A member that saw them all leaves only once every member
 * has said so in a map.
 */
public final class HazelcastMember {
    private static final ReentrantLock LOCK = new ReentrantLock();
    private static final Condition GREW = LOCK.newCondition();
    private static int largest;

    private HazelcastMember() {}

    public static void main(String[] args) throws Exception {
        int expected = Integer.parseInt(args[0]);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
        // what newHazelcastInstance() with no Config loads, plus a listener that is there before the join:
        // registered after the start, it could miss a cluster of 8 whose first members have left already
        Config config = Config.load();
        config.addListenerConfig(new ListenerConfig(new InitialMembershipListener() {
            @Override
            public void init(InitialMembershipEvent e) {
                seen(e.getMembers().size());
            }

            @Override
            public void memberAdded(MembershipEvent e) {
                seen(e.getMembers().size());
            }

            @Override
            public void memberRemoved(MembershipEvent e) {}
        }));
        HazelcastInstance hz = Hazelcast.newHazelcastInstance(config);
        LOCK.lock();
        try {
            long left;
            while (largest < expected && (left = deadline - System.nanoTime()) > 0) {
                GREW.awaitNanos(left);
            }
            System.out.println("cluster of " + largest + " local "
                    + hz.getCluster().getLocalMember().getAddress().getHost() + ":"
                    + hz.getCluster().getLocalMember().getAddress().getPort());
        } finally {
            LOCK.unlock();
        }
        System.out.flush();
        if (largest >= expected) {
            // stay until every member has seen the whole cluster: the master, once it has committed the last
            // join, could otherwise leave before its member-list update reached a slow member
            IMap<String, Integer> seen = hz.getMap("members-seen");
            seen.put(hz.getCluster().getLocalMember().getUuid().toString(), largest);
            while (seen.size() < expected && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        }
        hz.getLifecycleService().terminate(); // no graceful migration: the members all leave at once
    }

    private static void seen(int size) {
        LOCK.lock();
        try {
            largest = Math.max(largest, size);
            GREW.signalAll();
        } finally {
            LOCK.unlock();
        }
    }
}
