//! Creates the local table (from the key constants in `keys.rs`, matching template.yaml)
//! and the local bucket. Idempotent: existing resources are left alone.

use anyhow::Context;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use huddle_shared::files::storage::s3::S3Storage;
use huddle_shared::keys;

fn key(name: &str, key_type: KeyType) -> anyhow::Result<KeySchemaElement> {
    Ok(KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()?)
}

fn gsi(name: &str, pk: &str, sk: &str) -> anyhow::Result<GlobalSecondaryIndex> {
    Ok(GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash)?)
        .key_schema(key(sk, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()?)
}

pub async fn ensure_table(client: &Client, table: &str) -> anyhow::Result<()> {
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(keys::PK, KeyType::Hash)?)
        .key_schema(key(keys::SK, KeyType::Range)?)
        .global_secondary_indexes(gsi(keys::GSI1, keys::GSI1PK, keys::GSI1SK)?)
        .global_secondary_indexes(gsi(keys::GSI2, keys::GSI2PK, keys::GSI2SK)?)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()?,
        );
    for name in [
        keys::PK,
        keys::SK,
        keys::GSI1PK,
        keys::GSI1SK,
        keys::GSI2PK,
        keys::GSI2SK,
    ] {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        );
    }
    match request.send().await {
        Ok(_) => tracing::info!(table, "created table"),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            tracing::info!(table, "table exists");
            return Ok(());
        }
        Err(error) => {
            return Err(anyhow::anyhow!(
                aws_sdk_dynamodb::error::DisplayErrorContext(error)
            ))
            .context("CreateTable");
        }
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(keys::EXPIRES_AT)
                .build()?,
        )
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(aws_sdk_dynamodb::error::DisplayErrorContext(e)))
        .context("UpdateTimeToLive")?;
    Ok(())
}

pub async fn ensure_bucket(sdk_config: &aws_types::SdkConfig, bucket: &str) -> anyhow::Result<()> {
    // Local S3 servers address buckets by path, not by virtual host.
    let storage = S3Storage::for_bucket(sdk_config, bucket.to_owned(), true, false)?;
    let created = storage
        .ensure_bucket()
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))
        .context("creating the bucket")?;
    tracing::info!(bucket, created, "bucket ready");
    Ok(())
}
