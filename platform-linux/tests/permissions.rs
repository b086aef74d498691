//! Who may open a service: with the default permissions only its creator's
//! user; with `Permissions::OwnerAndGroup` also the members of the
//! creator's group. Real users, made by the test itself (it needs root, as
//! CI runs; elsewhere it fails and says so), run the children through
//! `setpriv`. And names cannot reach outside the shared-memory directory.

mod common;

use common::*;
use icefloe_linux::prelude::*;
use icefloe_linux::Permissions;
use std::process::Command;
use std::time::{Duration, Instant};

const WATCHDOG: Duration = Duration::from_secs(30);
const TEST: &str = "a_second_user_opens_a_service_only_with_group_permissions_and_in_the_group";
const GROUP: &str = "icefloe_share";
/// The creator (primary group: GROUP), a member of GROUP, an outsider.
const CREATOR: &str = "icefloe_a";
const MEMBER: &str = "icefloe_b";
const OUTSIDER: &str = "icefloe_c";

fn svc(name: &str) -> ServiceName {
    ServiceName::new(name).unwrap()
}

fn run(cmd: &str, args: &[&str]) -> i32 {
    Command::new(cmd).args(args).status().unwrap_or_else(|e| panic!("{cmd}: {e}")).code().unwrap_or(-1)
}

/// Makes the group and the three users (exit code 9: already there).
fn make_users() {
    assert!(matches!(run("groupadd", &["-f", GROUP]), 0 | 9), "groupadd {GROUP}");
    for (user, extra) in [(CREATOR, ["-g", GROUP]), (MEMBER, ["-G", GROUP]), (OUTSIDER, ["-G", "nogroup"])] {
        let mut args = vec!["-M", "-N", "-s", "/usr/sbin/nologin"];
        args.extend(extra);
        args.push(user);
        assert!(matches!(run("useradd", &args), 0 | 9), "useradd {user}");
    }
}

fn remove_users() {
    for user in [CREATOR, MEMBER, OUTSIDER] {
        let _ = run("userdel", &[user]);
    }
    let _ = run("groupdel", &[GROUP]);
}

fn user_group(user: &str) -> &'static str {
    if user == CREATOR {
        GROUP
    } else {
        "users"
    }
}

/// What opening a service as this user gave: "ok" or the error's name.
fn try_open(node: &Node, name: &str) -> String {
    match node.service_builder(&svc(name)).publish_subscribe::<u64>().open() {
        Ok(service) => {
            let subscriber = service.subscriber_builder().create().unwrap();
            let deadline = Instant::now() + WATCHDOG;
            loop {
                if let Some(s) = subscriber.receive().unwrap() {
                    return format!("ok {}", *s);
                }
                assert!(Instant::now() < deadline, "nothing arrived");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        Err(e) => format!("{e:?}"),
    }
}

/// Opens every segment under the prefix read-only, as a hostile process
/// would: how many the OS refused, of how many.
fn raw_opens(prefix: &str) -> (usize, usize) {
    // Services and data segments (node records have their own test).
    let names = segments(prefix);
    let refused = names
        .iter()
        .filter(|n| {
            std::fs::File::open(format!("/dev/shm/{n}"))
                .is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
        })
        .count();
    (refused, names.len())
}

fn child(role: &str) {
    let prefix = arg("ICEFLOE_TEST_PREFIX");
    match role {
        // Makes a group-shared service and an owner-only one, and sends on
        // both until told to stop.
        "creator" => {
            let shared = NodeBuilder::new().prefix(&prefix).unwrap().permissions(Permissions::OwnerAndGroup);
            let shared = shared.create().unwrap();
            let private = node(&prefix);
            let a = shared.service_builder(&svc("perm/shared")).publish_subscribe::<u64>().create().unwrap();
            let b = private.service_builder(&svc("perm/private")).publish_subscribe::<u64>().create().unwrap();
            let (pa, pb) = (a.publisher_builder().create().unwrap(), b.publisher_builder().create().unwrap());
            say("ready", "");
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                listen("stop");
                let _ = tx.send(());
            });
            // Until told to stop, or until the parent is gone.
            while rx.try_recv() == Err(std::sync::mpsc::TryRecvError::Empty) {
                pa.send_copy(7).unwrap();
                pb.send_copy(8).unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        // Tries each service the test names, and raw opens of every segment.
        "visitor" => {
            let node = node(&prefix);
            for name in ["perm/root", "perm/shared", "perm/private"] {
                say(&format!("open:{name}"), try_open(&node, name));
            }
            let (refused, of) = raw_opens(&prefix);
            say("raw", format!("{refused} {of}"));
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn a_second_user_opens_a_service_only_with_group_permissions_and_in_the_group() {
    if let Some(role) = role() {
        return child(&role);
    }
    assert!(
        rustix::process::geteuid().is_root(),
        "this test makes Unix users and runs children as them: run it as root (CI does)"
    );
    make_users();
    let prefix = unique_prefix();
    {
        // Root's own service, default permissions.
        let node = node(&prefix);
        let service = node.service_builder(&svc("perm/root")).publish_subscribe::<u64>().create().unwrap();
        let publisher = service.publisher_builder().create().unwrap();
        publisher.send_copy(1).unwrap();
        let mut creator = Peer::spawn_as(CREATOR, user_group(CREATOR), TEST, "creator", &prefix);
        creator.expect("ready");
        for (user, shared, segments) in
            [(MEMBER, "ok 7", "all but the group's"), (OUTSIDER, "InsufficientPermissions", "all")]
        {
            let mut visitor = Peer::spawn_as(user, user_group(user), TEST, "visitor", &prefix);
            assert_eq!(visitor.expect("open:perm/root"), "InsufficientPermissions", "{user} opened root's service");
            assert_eq!(visitor.expect("open:perm/shared"), shared, "{user} and the group-shared service");
            assert_eq!(visitor.expect("open:perm/private"), "InsufficientPermissions", "{user} opened a private one");
            let raw = visitor.expect("raw");
            let (refused, of): (usize, usize) = {
                let mut it = raw.split(' ').map(|v| v.parse().unwrap());
                (it.next().unwrap(), it.next().unwrap())
            };
            // The group-shared service and its publisher's segment are the
            // two a member may open; everything else is refused.
            let expected = if user == MEMBER { of - 2 } else { of };
            assert_eq!(refused, expected, "{user}: {refused} of {of} segments refused, expected {segments}");
            assert!(visitor.wait(WATCHDOG), "the {user} visitor failed");
        }
        creator.tell("stop");
        assert!(creator.wait(WATCHDOG), "the creator failed");
        drop((publisher, service));
    }
    assert_clean(&prefix);
    remove_users();
}

#[test]
fn names_cannot_reach_outside_the_shared_memory_directory() {
    for bad in ["../x", "a/b", ".", "..", "/etc", "x\0y"] {
        assert!(NodeBuilder::new().prefix(bad).is_err(), "prefix {bad:?} was accepted");
    }
    let prefix = unique_prefix();
    {
        let node = node(&prefix);
        // Service names are hashed into segment names: whatever they hold,
        // every segment lands in /dev/shm under the node's prefix.
        let names = ["../../etc/passwd", "/dev/shm/../../tmp/x", "a/../../b", "..", "%s%n"];
        let services: Vec<_> =
            names.iter().map(|n| node.service_builder(&svc(n)).publish_subscribe::<u64>().create().unwrap()).collect();
        let publishers: Vec<_> = services.iter().map(|s| s.publisher_builder().create().unwrap()).collect();
        assert_eq!(segments(&prefix).len(), 2 * names.len(), "a service segment and a data segment each");
        for n in shm_left(&prefix) {
            assert!(!n.contains('/') && !n.contains(".."), "segment name {n:?}");
        }
        assert!(!std::path::Path::new("/tmp/x").exists());
        drop(publishers);
    }
    assert_clean(&prefix);
}
