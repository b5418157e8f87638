//! The writes and reads tasks and boards share: one transaction per change of a task or
//! card that also moves every counter the change affects (channel totals, per assignee,
//! workspace workload) and its due marker; the stats, overdue, workload and my-work reads;
//! and the release of a deleted channel's workload.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

use crate::boards::{Card, Column};
use crate::channels::Channel;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ChannelId, UserId, WorkspaceId};
use crate::keys::{self, Gsi1Key, Key};
use crate::table::{
    Page, PageRequest, Store, TransactOutcome, check_exists, to_attribute, to_attributes, update_of,
};
use crate::tasks::Task;
use crate::work::{Footprint, OpenDone};

/// Overdue counts read at most this many due markers (documented in README): above it a
/// count says "at least this many".
pub const OVERDUE_COUNT_MAX: usize = 10_000;
/// Assignees (per channel) and workload rows (per workspace) a stats read takes in.
const COUNTERS_MAX: usize = 10_000;

/// An open, dated task or card: what overdue counts read.
#[derive(Debug, Serialize, Deserialize)]
struct DueMarkerItem {
    #[serde(flatten)]
    key: Key,
    #[serde(flatten)]
    by_workspace: Gsi1Key,
    #[serde(rename = "type")]
    entity: String,
    channel_id: ChannelId,
    item_id: String,
    due_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assignee_id: Option<UserId>,
}

/// A channel's totals as stored (every counter an `ADD`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Totals {
    #[serde(default)]
    pub total: i64,
    #[serde(default)]
    pub open: i64,
    #[serde(default)]
    pub done: i64,
    #[serde(default)]
    pub low: i64,
    #[serde(default)]
    pub medium: i64,
    #[serde(default)]
    pub high: i64,
    #[serde(default)]
    pub urgent: i64,
    /// Kanban: how many columns the board has (the condition that caps them).
    #[serde(default)]
    pub columns: i64,
}

#[derive(Debug, Deserialize)]
struct UserCounter {
    user_id: UserId,
    #[serde(flatten)]
    counts: OpenDone,
}

/// Everything under a channel's `BOARD#` prefix, told apart by `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum CounterItem {
    #[serde(rename = "work_totals")]
    Totals(Totals),
    #[serde(rename = "work_assignee")]
    Assignee(UserCounter),
    #[serde(rename = "column")]
    Column(Column),
}

/// A channel's counters, as one Query reads them.
#[derive(Debug, Clone, Default)]
pub struct ChannelCounters {
    pub totals: Totals,
    pub assignees: Vec<(UserId, OpenDone)>,
    /// Kanban: the columns with their card counts, in no particular order.
    pub columns: Vec<Column>,
}

/// A task or card, as the assignee index holds them.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub enum WorkItem {
    #[serde(rename = "task")]
    Task(Box<Task>),
    #[serde(rename = "card")]
    Card(Box<Card>),
}

impl WorkItem {
    pub fn channel_id(&self) -> ChannelId {
        match self {
            Self::Task(task) => task.channel_id,
            Self::Card(card) => card.channel_id,
        }
    }
}

/// One change of a task or card, written as one transaction with everything it moves.
#[derive(Debug)]
pub(crate) struct WorkWrite {
    pub workspace_id: WorkspaceId,
    pub channel_id: ChannelId,
    /// The task or card put or delete, with its own condition (new, or the revision read).
    pub item: TransactWriteItem,
    pub before: Option<Footprint>,
    pub after: Option<Footprint>,
    /// Items that must still exist (the memberships the change relies on).
    pub guards: Vec<Key>,
    /// Further conditional writes of the area (a column's card count, say).
    pub extra: Vec<TransactWriteItem>,
    /// For a delete: the deleted item's key and who deletes it, noted in the same
    /// transaction for the activity log.
    pub deleted_by: Option<(Key, UserId)>,
}

/// How a [`WorkWrite`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkOutcome {
    Written,
    /// The item changed (or went) since it was read: read again and retry.
    Stale,
    /// The channel is gone.
    ChannelGone,
    /// The guard at this index (of [`WorkWrite::guards`]) no longer exists.
    GuardFailed(usize),
    /// The extra write at this index failed its condition.
    ExtraFailed(usize),
}

/// A Put of a task or card: new (`revision` `None`), or replacing the revision read.
pub(crate) fn put_item<T: Serialize>(
    table: &str,
    item: &T,
    revision: Option<u64>,
) -> ApiResult<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(to_attributes(item)?));
    let put = match revision {
        None => put.condition_expression(crate::table::item_is_new()),
        Some(revision) => put
            .condition_expression("revision = :revision")
            .expression_attribute_values(":revision", to_attribute(&revision)?),
    };
    Ok(TransactWriteItem::builder()
        .put(put.build().map_err(ApiError::internal)?)
        .build())
}

/// A Delete of a task or card, if it is still the revision read.
pub(crate) fn delete_item(table: &str, key: &Key, revision: u64) -> ApiResult<TransactWriteItem> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(to_attributes(key)?))
        .condition_expression("revision = :revision")
        .expression_attribute_values(":revision", to_attribute(&revision)?)
        .build()
        .map_err(ApiError::internal)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// How much each counter moves when `before` becomes `after`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CounterDeltas {
    /// Channel totals, by attribute.
    pub totals: BTreeMap<&'static str, i64>,
    /// Per assignee (channel and workspace alike): open, done.
    pub users: BTreeMap<UserId, (i64, i64)>,
}

impl CounterDeltas {
    pub(crate) fn between(before: Option<&Footprint>, after: Option<&Footprint>) -> Self {
        let mut deltas = Self::default();
        for (footprint, sign) in [(before, -1i64), (after, 1i64)] {
            let Some(footprint) = footprint else { continue };
            *deltas.totals.entry("total").or_default() += sign;
            let status = if footprint.done { "done" } else { "open" };
            *deltas.totals.entry(status).or_default() += sign;
            if let (false, Some(priority)) = (footprint.done, footprint.priority) {
                *deltas.totals.entry(priority.counter()).or_default() += sign;
            }
            if let Some(user) = footprint.assignee {
                let entry = deltas.users.entry(user).or_default();
                if footprint.done {
                    entry.1 += sign;
                } else {
                    entry.0 += sign;
                }
            }
        }
        deltas.totals.retain(|_, delta| *delta != 0);
        deltas
            .users
            .retain(|_, (open, done)| *open != 0 || *done != 0);
        deltas
    }
}

/// The counter updates and due-marker writes that turn `before` into `after`; they have
/// no conditions (an `ADD` creates a missing counter), so they never fail a transaction.
fn counter_writes(
    table: &str,
    workspace_id: WorkspaceId,
    channel_id: ChannelId,
    before: Option<&Footprint>,
    after: Option<&Footprint>,
) -> ApiResult<Vec<TransactWriteItem>> {
    let deltas = CounterDeltas::between(before, after);
    let mut writes = Vec::new();
    if !deltas.totals.is_empty() {
        let mut update = update_of(table, &keys::work_totals(channel_id))?
            .expression_attribute_names("#type", keys::TYPE)
            .expression_attribute_values(":type", to_attribute(&keys::entity::WORK_TOTALS)?)
            .expression_attribute_values(":channel", to_attribute(&channel_id)?);
        let mut adds = Vec::new();
        for (index, (name, delta)) in deltas.totals.iter().enumerate() {
            adds.push(format!("#c{index} :c{index}"));
            update = update
                .expression_attribute_names(format!("#c{index}"), *name)
                .expression_attribute_values(format!(":c{index}"), to_attribute(delta)?);
        }
        let update = update
            .update_expression(format!(
                "SET #type = :type, channel_id = :channel ADD {}",
                adds.join(", ")
            ))
            .build()
            .map_err(ApiError::internal)?;
        writes.push(TransactWriteItem::builder().update(update).build());
    }
    for (user, (open, done)) in &deltas.users {
        for (key, entity) in [
            (
                keys::work_assignee(channel_id, *user),
                keys::entity::WORK_ASSIGNEE,
            ),
            (keys::workload(workspace_id, *user), keys::entity::WORKLOAD),
        ] {
            let update = update_of(table, &key)?
                .update_expression(
                    "SET #type = :type, user_id = :user, channel_id = :channel \
                     ADD #open :open, #done :done",
                )
                .expression_attribute_names("#type", keys::TYPE)
                .expression_attribute_names("#open", "open")
                .expression_attribute_names("#done", "done")
                .expression_attribute_values(":type", to_attribute(&entity)?)
                .expression_attribute_values(":user", to_attribute(user)?)
                .expression_attribute_values(":channel", to_attribute(&channel_id)?)
                .expression_attribute_values(":open", to_attribute(open)?)
                .expression_attribute_values(":done", to_attribute(done)?)
                .build()
                .map_err(ApiError::internal)?;
            writes.push(TransactWriteItem::builder().update(update).build());
        }
    }
    let marker = |footprint: &Footprint| -> Option<(String, Option<UserId>)> {
        footprint
            .due_marker_date()
            .map(|date| (date, footprint.assignee))
    };
    let old_marker = before.and_then(|f| marker(f).map(|m| (f.item_id.clone(), m)));
    let new_marker = after.and_then(|f| marker(f).map(|m| (f.item_id.clone(), m)));
    if old_marker != new_marker {
        if let Some((item_id, (date, _))) = &old_marker {
            let moved = new_marker
                .as_ref()
                .is_some_and(|(new_id, (new_date, _))| new_id == item_id && new_date == date);
            if !moved {
                let delete = Delete::builder()
                    .table_name(table)
                    .set_key(Some(to_attributes(&keys::due_marker(
                        channel_id, date, item_id,
                    ))?))
                    .build()
                    .map_err(ApiError::internal)?;
                writes.push(TransactWriteItem::builder().delete(delete).build());
            }
        }
        if let Some((item_id, (date, assignee))) = new_marker {
            let item = DueMarkerItem {
                key: keys::due_marker(channel_id, &date, &item_id),
                by_workspace: keys::due_marker_by_workspace(workspace_id, &date, &item_id),
                entity: keys::entity::DUE_MARKER.into(),
                channel_id,
                item_id,
                due_date: date,
                assignee_id: assignee,
            };
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(to_attributes(&item)?))
                .build()
                .map_err(ApiError::internal)?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
    }
    Ok(writes)
}

impl Store {
    /// Writes one change of a task or card with every counter and marker it moves, in one
    /// transaction, on condition that the item is as read, the channel still exists and
    /// the guards (memberships) hold.
    pub(crate) async fn write_work(&self, write: WorkWrite) -> ApiResult<WorkOutcome> {
        const ITEM: usize = 0;
        const CHANNEL: usize = 1;
        const GUARDS: usize = 2;
        let table = self.table();
        let mut items = vec![
            write.item,
            check_exists(table, &keys::channel(write.channel_id))?,
        ];
        for guard in &write.guards {
            items.push(check_exists(table, guard)?);
        }
        let extras = GUARDS + write.guards.len();
        let extra_count = write.extra.len();
        items.extend(write.extra);
        if let Some((key, actor)) = &write.deleted_by {
            items.push(crate::activity::store::deletion_note_put(
                table, key, *actor,
            )?);
        }
        items.extend(counter_writes(
            table,
            write.workspace_id,
            write.channel_id,
            write.before.as_ref(),
            write.after.as_ref(),
        )?);
        let outcome = self.transact(items).await?;
        Ok(match outcome {
            TransactOutcome::Committed => WorkOutcome::Written,
            _ if outcome.failed_at(CHANNEL) => WorkOutcome::ChannelGone,
            _ if outcome.failed_at(ITEM) => WorkOutcome::Stale,
            _ => {
                if let Some(index) = (0..write.guards.len()).find(|i| outcome.failed_at(GUARDS + i))
                {
                    WorkOutcome::GuardFailed(index)
                } else if let Some(index) = (0..extra_count).find(|i| outcome.failed_at(extras + i))
                {
                    WorkOutcome::ExtraFailed(index)
                } else if let TransactOutcome::ConditionFailed(codes) = outcome {
                    return Err(TransactOutcome::cancelled("work write", &codes));
                } else {
                    WorkOutcome::Written
                }
            }
        })
    }

    /// A channel's totals, per-assignee counts and (kanban) columns: one Query.
    pub async fn channel_counters(&self, channel_id: ChannelId) -> ApiResult<ChannelCounters> {
        let items: Vec<CounterItem> = self
            .query_all(&keys::channel_counters(channel_id), COUNTERS_MAX)
            .await?;
        let mut counters = ChannelCounters::default();
        for item in items {
            match item {
                CounterItem::Totals(totals) => counters.totals = totals,
                CounterItem::Assignee(user) => counters.assignees.push((user.user_id, user.counts)),
                CounterItem::Column(column) => counters.columns.push(column),
            }
        }
        Ok(counters)
    }

    /// How many open items of the channel were due before `today`: one Query that counts
    /// due markers, at most [`OVERDUE_COUNT_MAX`].
    pub async fn count_overdue(&self, channel_id: ChannelId, today: &str) -> ApiResult<u64> {
        let (count, _) = self
            .count_in(&keys::channel_overdue(channel_id, today), OVERDUE_COUNT_MAX)
            .await?;
        Ok(u64::try_from(count).unwrap_or(u64::MAX))
    }

    /// A workspace's per-user open and done counts.
    pub async fn workload_counters(
        &self,
        workspace_id: WorkspaceId,
    ) -> ApiResult<Vec<(UserId, OpenDone)>> {
        let rows: Vec<UserCounter> = self
            .query_all(&keys::workspace_workload(workspace_id), COUNTERS_MAX)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.user_id, row.counts))
            .collect())
    }

    /// Overdue open items per assignee across a workspace: one Query over its due
    /// markers dated before `today` (at most [`OVERDUE_COUNT_MAX`]).
    pub async fn overdue_by_assignee(
        &self,
        workspace_id: WorkspaceId,
        today: &str,
    ) -> ApiResult<HashMap<UserId, u64>> {
        let markers: Vec<DueMarkerItem> = self
            .query_all(
                &keys::workspace_overdue(workspace_id, today),
                OVERDUE_COUNT_MAX,
            )
            .await?;
        let mut overdue = HashMap::new();
        for assignee in markers.into_iter().filter_map(|marker| marker.assignee_id) {
            *overdue.entry(assignee).or_default() += 1;
        }
        Ok(overdue)
    }

    /// A page of the work assigned to a user in a workspace (`done`: see
    /// [`keys::my_work`]) that `select` keeps.
    pub async fn my_work_page<U, F, Fut>(
        &self,
        workspace_id: WorkspaceId,
        user_id: UserId,
        done: Option<bool>,
        page: &PageRequest,
        select: F,
    ) -> ApiResult<Page<U>>
    where
        F: FnMut(Vec<WorkItem>) -> Fut,
        Fut: Future<Output = ApiResult<Vec<Option<U>>>>,
    {
        self.query_selected(
            &keys::my_work(workspace_id, user_id, done),
            page,
            true,
            select,
        )
        .await
    }

    /// Takes a deleted todo or kanban channel's counts out of its workspace's workload,
    /// one assignee at a time: the channel's per-assignee counter is deleted in the same
    /// transaction as the workload update, so a redelivered stream record changes nothing
    /// twice. The rest of the channel's items go with its partition.
    pub async fn release_channel_work(&self, channel: &Channel) -> ApiResult<()> {
        const ASSIGNEE: usize = 0;
        let counters = self.channel_counters(channel.id).await?;
        let table = self.table();
        for (user, counts) in counters.assignees {
            let assignee_key = keys::work_assignee(channel.id, user);
            let release = update_of(table, &keys::workload(channel.workspace_id, user))?
                .update_expression("ADD #open :open, #done :done")
                .condition_expression(crate::table::item_exists())
                .expression_attribute_names("#open", "open")
                .expression_attribute_names("#done", "done")
                .expression_attribute_values(":open", to_attribute(&-counts.open)?)
                .expression_attribute_values(":done", to_attribute(&-counts.done)?)
                .build()
                .map_err(ApiError::internal)?;
            let outcome = self
                .transact(vec![
                    crate::table::delete_existing(table, &assignee_key)?,
                    TransactWriteItem::builder().update(release).build(),
                ])
                .await?;
            match outcome {
                TransactOutcome::Committed => {}
                // Released before (a redelivery): nothing to do.
                _ if outcome.failed_at(ASSIGNEE) => {}
                // The workspace (and its workload) is gone: only the counter remains.
                TransactOutcome::ConditionFailed(_) => {
                    self.delete_keys(&[assignee_key]).await?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::Priority;

    fn footprint(done: bool, priority: Option<Priority>, assignee: Option<UserId>) -> Footprint {
        Footprint {
            item_id: "T".into(),
            done,
            priority,
            assignee,
            due: None,
        }
    }

    #[test]
    fn completing_moves_open_to_done_for_everyone() {
        let user = UserId::generate();
        let open = footprint(false, Some(Priority::High), Some(user));
        let done = footprint(true, Some(Priority::High), Some(user));
        let deltas = CounterDeltas::between(Some(&open), Some(&done));
        assert_eq!(
            deltas.totals,
            BTreeMap::from([("open", -1), ("done", 1), ("high", -1)])
        );
        assert_eq!(deltas.users, BTreeMap::from([(user, (-1, 1))]));
    }

    #[test]
    fn reassigning_moves_the_count_between_users() {
        let (a, b) = (UserId::generate(), UserId::generate());
        let before = footprint(false, Some(Priority::Low), Some(a));
        let after = footprint(false, Some(Priority::Low), Some(b));
        let deltas = CounterDeltas::between(Some(&before), Some(&after));
        assert!(deltas.totals.is_empty());
        assert_eq!(deltas.users, BTreeMap::from([(a, (-1, 0)), (b, (1, 0))]));
        assert_eq!(
            CounterDeltas::between(Some(&before), Some(&before)),
            CounterDeltas::default()
        );
    }

    /// Any sequence of changes leaves the counters equal to a recount of the items.
    #[test]
    fn deltas_over_random_sequences_match_a_recount() {
        let users = [UserId::generate(), UserId::generate(), UserId::generate()];
        let mut random = [0u8; 4096];
        getrandom::fill(&mut random).unwrap_or_default();
        let mut items: Vec<Option<Footprint>> = vec![None; 8];
        let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
        let mut per_user: BTreeMap<UserId, (i64, i64)> = BTreeMap::new();
        for chunk in random.chunks(4) {
            let slot = usize::from(chunk[0]) % items.len();
            let next = (chunk[1] % 5 != 0).then(|| Footprint {
                item_id: slot.to_string(),
                done: chunk[2] % 2 == 0,
                priority: Some(Priority::ALL[usize::from(chunk[3]) % 4]),
                assignee: (chunk[3] % 3 != 0).then(|| users[usize::from(chunk[2]) % 3]),
                due: None,
            });
            let deltas = CounterDeltas::between(items[slot].as_ref(), next.as_ref());
            for (name, delta) in deltas.totals {
                *totals.entry(name).or_default() += delta;
            }
            for (user, (open, done)) in deltas.users {
                let entry = per_user.entry(user).or_default();
                entry.0 += open;
                entry.1 += done;
            }
            items[slot] = next;
        }
        let live: Vec<&Footprint> = items.iter().flatten().collect();
        let total = |name: &str| totals.get(name).copied().unwrap_or(0);
        assert_eq!(total("total"), live.len() as i64);
        assert_eq!(total("done"), live.iter().filter(|f| f.done).count() as i64);
        for priority in Priority::ALL {
            let open = live
                .iter()
                .filter(|f| !f.done && f.priority == Some(priority))
                .count();
            assert_eq!(total(priority.counter()), open as i64);
        }
        for user in users {
            let mine = live.iter().filter(|f| f.assignee == Some(user));
            let open = mine.clone().filter(|f| !f.done).count() as i64;
            let done = mine.filter(|f| f.done).count() as i64;
            assert_eq!(per_user.get(&user).copied().unwrap_or((0, 0)), (open, done));
        }
    }
}
