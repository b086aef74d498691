//! A service made by the other platform crate on the same host (the QNX
//! platform's POSIX part run on Linux) is refused with an error, never
//! misread, and left as it was: `icefloe-qnx`'s segments start with its
//! sleeper slots, `icefloe-linux`'s do not.
#![cfg(target_os = "linux")]

#[path = "../../platform-linux/tests/common/mod.rs"]
mod common;

use common::{assert_clean, unique_prefix};

fn name() -> icefloe_qnx::ServiceName {
    icefloe_qnx::ServiceName::new("mixed/platforms").unwrap()
}

#[test]
fn each_platform_refuses_the_others_service() {
    let prefix = unique_prefix();
    {
        let linux = icefloe_linux::NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
        let qnx = icefloe_qnx::NodeBuilder::new().prefix(&prefix).unwrap().create().unwrap();
        let made = linux.service_builder(&name()).publish_subscribe::<u64>().create().unwrap();
        let opened = qnx.service_builder(&name()).publish_subscribe::<u64>().open();
        assert!(opened.is_err(), "icefloe-qnx opened icefloe-linux's service");
        println!("qnx refused with: {}", opened.err().unwrap());
        // The refusal lost nothing: the service is still its maker's.
        let again = linux.service_builder(&name()).publish_subscribe::<u64>().open();
        assert!(again.is_ok(), "icefloe-linux's service was damaged: {:?}", again.err());
        drop(again);
        drop(made);
        let made = qnx.service_builder(&name()).publish_subscribe::<u64>().create().unwrap();
        let opened = linux.service_builder(&name()).publish_subscribe::<u64>().open();
        assert!(opened.is_err(), "icefloe-linux opened icefloe-qnx's service");
        println!("linux refused with: {}", opened.err().unwrap());
        let again = qnx.service_builder(&name()).publish_subscribe::<u64>().open();
        assert!(again.is_ok(), "icefloe-qnx's service was damaged: {:?}", again.err());
        drop(again);
        drop(made);
    }
    assert_clean(&prefix);
}
