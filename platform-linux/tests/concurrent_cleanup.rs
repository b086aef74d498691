//! Cleaners and openers racing: several processes cleaning the same dead
//! node at once, and `open_or_create` racing the last user's removal of the
//! service. Nothing is freed twice, no call fails, exactly one cleaner
//! reports the dead node, and no service is removed while someone has it
//! open (a removed service would split its users in two: some would not
//! hear the others).

mod common;

use common::*;
use icefloe_linux::prelude::*;
use icefloe_linux::AllocationStrategy;
use std::time::{Duration, Instant};

const WATCHDOG: Duration = Duration::from_secs(20);
const CLEANERS: usize = 4;
const PEERS: usize = 4;

fn svc() -> ServiceName {
    ServiceName::new("race/frames").unwrap()
}

fn open(node: &Node) -> PublishSubscribe<[u8]> {
    node.service_builder(&svc())
        .publish_subscribe::<[u8]>()
        .max_publishers(PEERS as u32 + 1)
        .max_subscribers(PEERS as u32 + 1)
        .max_nodes(PEERS as u32 + CLEANERS as u32 + 2)
        .subscriber_max_buffer_size(16)
        .open_or_create()
        .expect("open_or_create never fails here")
}

#[test]
fn child() {
    let Some(role) = role() else { return };
    let prefix = arg("ICEFLOE_TEST_PREFIX");
    let node = node(&prefix);
    match role.as_str() {
        // Holds a grown publisher and a subscriber with a sample, until killed.
        "victim" => {
            let service = open(&node);
            let subscriber = service.subscriber_builder().create().unwrap();
            let publisher = service
                .publisher_builder()
                .initial_max_slice_len(8)
                .allocation_strategy(AllocationStrategy::PowerOfTwo)
                .create()
                .unwrap();
            for len in [8usize, 100, 10_000] {
                publisher.loan_slice_uninit(len).unwrap().write_from_fn(|_| 7).send().unwrap();
            }
            let held = subscriber.receive().unwrap();
            assert!(held.is_some());
            say("ready", "");
            std::thread::sleep(Duration::from_secs(120));
        }
        // On "go", cleans (the node's sweep and the open's cleanup at once
        // with the other cleaners), then says how many nodes it reclaimed.
        "cleaner" => {
            say("ready", "");
            listen("go");
            let by_node = node.cleanup_dead_nodes();
            let service = open(&node);
            let by_service = service.cleanup_dead_nodes();
            assert_eq!(by_node.failed_cleanups, 0);
            say("cleaned", by_node.cleanups + by_service);
        }
        // Rounds of: open_or_create (while the others may be removing the
        // service as its last users), wait for all, make a publisher and a
        // subscriber, hear every other peer, leave.
        "peer" => {
            let me: u8 = arg("ME").parse().unwrap();
            let rounds: usize = arg("ROUNDS").parse().unwrap();
            // The parent's words, read on a thread so that the publisher
            // can keep sending while it waits (publishers connect to new
            // subscribers on their next send).
            let (tx, rx) = std::sync::mpsc::channel::<String>();
            std::thread::spawn(move || {
                for line in std::io::stdin().lines().map_while(Result::ok) {
                    if tx.send(line.trim().to_string()).is_err() {
                        return;
                    }
                }
            });
            let word = |w: &str| assert_eq!(rx.recv_timeout(WATCHDOG).expect("the parent's word"), w);
            for round in 0..rounds {
                let service = open(&node);
                say("opened", round);
                word("go");
                let subscriber = service.subscriber_builder().create().unwrap();
                let publisher = service.publisher_builder().initial_max_slice_len(2).create().unwrap();
                let mut heard = [false; PEERS];
                let deadline = Instant::now() + WATCHDOG;
                let mut said = false;
                loop {
                    assert!(
                        said || Instant::now() < deadline,
                        "round {round}: peer {me} heard only {heard:?}: a split service? (it sees {} publishers, {} \
                         subscribers)",
                        service.number_of_publishers(),
                        service.number_of_subscribers()
                    );
                    publisher.loan_slice_uninit(2).unwrap().write_from_fn(|i| [me, round as u8][i]).send().unwrap();
                    while let Some(s) = subscriber.receive().unwrap() {
                        if s[1] == round as u8 {
                            heard[s[0] as usize] = true;
                        }
                    }
                    if !said && heard.iter().all(|h| *h) {
                        say("heard", round);
                        said = true;
                    }
                    if said {
                        match rx.try_recv() {
                            Ok(w) => {
                                assert_eq!(w, "next");
                                break;
                            }
                            Err(std::sync::mpsc::TryRecvError::Empty) => {}
                            Err(e) => panic!("the parent went away: {e}"),
                        }
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
                // Everyone leaves at once; the next round's opens race the
                // removal by whoever is last.
            }
            say("done", "");
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn several_cleaners_of_one_dead_node_reclaim_it_once() {
    let prefix = unique_prefix();
    for round in 0..10 {
        let mut victim = Peer::spawn("child", "victim", &prefix, &[]);
        victim.expect("ready");
        victim.kill9();
        victim.reap();
        let mut cleaners: Vec<Peer> = (0..CLEANERS).map(|_| Peer::spawn("child", "cleaner", &prefix, &[])).collect();
        for c in cleaners.iter_mut() {
            c.expect("ready");
        }
        for c in cleaners.iter_mut() {
            c.tell("go");
        }
        let total: u32 = cleaners.iter_mut().map(|c| c.expect("cleaned").parse::<u32>().unwrap()).sum();
        assert_eq!(total, 1, "round {round}: the dead node was reported reclaimed {total} times");
        for c in cleaners {
            assert!(c.wait(WATCHDOG), "round {round}: a cleaner failed");
        }
        // The victim's segments went with it, the service with its last user.
        assert_clean(&prefix);
    }
}

#[test]
fn opening_races_the_last_users_removal_without_splitting_the_service() {
    let prefix = unique_prefix();
    let rounds = 30;
    let mut peers: Vec<Peer> = (0..PEERS)
        .map(|me| Peer::spawn("child", "peer", &prefix, &[("ME", me.to_string()), ("ROUNDS", rounds.to_string())]))
        .collect();
    for round in 0..rounds {
        for p in peers.iter_mut() {
            assert_eq!(p.expect("opened"), round.to_string());
        }
        for p in peers.iter_mut() {
            p.tell("go");
        }
        for p in peers.iter_mut() {
            assert_eq!(p.expect("heard"), round.to_string());
        }
        for p in peers.iter_mut() {
            p.tell("next");
        }
    }
    for mut p in peers {
        p.expect("done");
        assert!(p.wait(WATCHDOG));
    }
    assert_clean(&prefix);
}

#[test]
fn the_last_users_leaving_at_once_remove_the_service() {
    // Two last users leave at the same instant: one marks the service for
    // removal, sees the other still there and unmarks; the other, leaving,
    // saw the mark and left the removal to the first. The first must look
    // again, or the service stays in /dev/shm with nobody in it.
    let prefix = unique_prefix();
    for round in 0..500 {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (prefix, barrier) = (prefix.to_string(), barrier.clone());
                std::thread::spawn(move || {
                    let node = node(&prefix);
                    let service = open(&node);
                    barrier.wait();
                    drop(service);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let left = shm_left(&prefix);
        assert!(left.is_empty(), "round {round}: nobody uses the service, yet it is left: {left:?}");
    }
}
