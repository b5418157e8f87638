//! Lambda's DynamoDB stream event (a fixture in the shape Lambda delivers) maps to the
//! changes the consumers see.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::event::dynamodb::Event;
use huddle_shared::stream::ChangeKind;
use huddle_shared::stream::change_from_record;

#[test]
fn lambda_stream_records_become_changes() {
    let event: Event = serde_json::from_str(include_str!("fixtures/stream-event.json")).unwrap();
    let changes: Vec<_> = event
        .records
        .into_iter()
        .filter_map(change_from_record)
        .collect();
    assert_eq!(changes.len(), 2);

    let insert = &changes[0];
    assert_eq!(insert.id, "111");
    assert_eq!(insert.kind, ChangeKind::Insert);
    assert!(insert.old.is_none());
    assert_eq!(insert.entity(), Some("message"));
    assert!(!insert.by_ttl);

    let expiry = &changes[1];
    assert_eq!(expiry.kind, ChangeKind::Remove);
    assert!(expiry.new.is_none());
    assert_eq!(expiry.entity(), Some("ws_ticket"));
    assert!(
        expiry.by_ttl,
        "TTL deletions are recognised by their principal"
    );
}
