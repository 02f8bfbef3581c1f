package dev.muster.agent.apps;

import com.hazelcast.cluster.InitialMembershipEvent;
import com.hazelcast.cluster.InitialMembershipListener;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Hazelcast member as an application would write it: {@code Hazelcast.newHazelcastInstance()} with no
 * configuration and no member list. It waits until it has seen a cluster of {@code args[0]} members or
 * {@code args[1]} seconds have passed, prints the largest cluster it saw and its own address, and leaves.
 *
 * <p>A membership listener, not polling, keeps the largest size: the first member to leave shrinks the others'
 * view, and a poll could miss the moment all were there.
 */
public final class HazelcastMember {
    private static final ReentrantLock LOCK = new ReentrantLock();
    private static final Condition GREW = LOCK.newCondition();
    private static int largest;

    private HazelcastMember() {}

    public static void main(String[] args) throws Exception {
        int expected = Integer.parseInt(args[0]);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
        HazelcastInstance hz = Hazelcast.newHazelcastInstance();
        hz.getCluster().addMembershipListener(new InitialMembershipListener() {
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
        });
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
