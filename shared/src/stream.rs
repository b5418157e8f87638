//! Table stream records, as every stream consumer (the search indexer now; broadcast and
//! notifications later) sees them, whether they came from Lambda's event source or from the
//! local gateway's poller.

/// What happened to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Insert,
    Modify,
    Remove,
}

/// One stream record: the item before and after, in serde_dynamo's neutral form.
#[derive(Debug, Clone)]
pub struct Change {
    /// The record's sequence number: what a partial batch failure reports.
    pub id: String,
    pub kind: ChangeKind,
    pub old: Option<serde_dynamo::Item>,
    pub new: Option<serde_dynamo::Item>,
    /// A removal by the table's TTL, not by a user.
    pub by_ttl: bool,
}

impl Change {
    /// The `type` of the item (from the new image, else the old one).
    pub fn entity(&self) -> Option<&str> {
        let image = self.new.as_ref().or(self.old.as_ref())?;
        match image.get(crate::keys::TYPE)? {
            serde_dynamo::AttributeValue::S(entity) => Some(entity.as_str()),
            _ => None,
        }
    }
}
