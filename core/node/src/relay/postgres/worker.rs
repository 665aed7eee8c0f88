//! The connection thread's side: one connection (reconnected when lost), its
//! prepared statements, and every read and write the store asks of it.

use super::sql::*;
use super::{Expired, RelayStoreError, RelayUsage, array, ingest, int, schema, uint};
use crate::relay::RelayLimits;
use pollen_proto::envelope::{Commitment, RoutingTag};
use pollen_proto::sync::store::{Incoming, ItemKind, LocalItem, Received, proof_item_id};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Statement};
use std::collections::HashMap;

/// Statements prepared once per connection: a statement sent as text costs
/// an extra round trip to prepare every time.
#[derive(Default)]
pub(super) struct Statements(HashMap<&'static str, Statement>);

impl Statements {
    pub(super) fn get(
        &mut self,
        client: &mut impl GenericClient,
        sql: &'static str,
    ) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.0.get(sql) {
            return Ok(s.clone());
        }
        let s = client.prepare(sql)?;
        self.0.insert(sql, s.clone());
        Ok(s)
    }
}

/// The connection thread's state.
pub(super) struct Worker {
    config: postgres::Config,
    client: Option<Client>,
    statements: Statements,
    limits: RelayLimits,
}

impl Worker {
    pub(super) fn open(
        config: postgres::Config,
        limits: RelayLimits,
    ) -> Result<Self, RelayStoreError> {
        let mut w = Self {
            config,
            client: None,
            statements: Statements::default(),
            limits,
        };
        schema::create(w.parts()?.0)?;
        tracing::info!(
            database = w.config.get_dbname().unwrap_or("(default)"),
            "relay store on PostgreSQL ready"
        );
        Ok(w)
    }

    /// Drops the connection so that the next call opens a new one.
    pub(super) fn forget_connection(&mut self) {
        if self.client.take().is_some() {
            tracing::warn!("connection to PostgreSQL lost; reconnecting at the next call");
        }
    }

    /// The connection, reconnecting if the last one broke (a restarted
    /// server, a network blip, a session timeout).
    fn parts(&mut self) -> Result<(&mut Client, &mut Statements), RelayStoreError> {
        let client = match self.client.take() {
            Some(c) if !c.is_closed() => c,
            old => {
                if old.is_some() {
                    tracing::warn!("connection to PostgreSQL lost; reconnecting");
                }
                // Prepared statements belong to the old connection.
                self.statements = Statements::default();
                let mut c = self.config.connect(NoTls)?;
                c.batch_execute(SESSION_SETTINGS)?;
                c
            }
        };
        Ok((self.client.insert(client), &mut self.statements))
    }

    pub(super) fn tags(&mut self, now: u64) -> Result<Vec<[u8; 8]>, RelayStoreError> {
        let now = int(now);
        let (client, st) = self.parts()?;
        let stmt = st.get(client, ENVELOPE_TAGS)?;
        let mut out = Vec::new();
        for row in client.query(&stmt, &[&now])? {
            out.push(array(&row, 0)?);
        }
        Ok(out)
    }

    pub(super) fn envelopes_with_tags(
        &mut self,
        tags: &[Vec<u8>],
        now: u64,
    ) -> Result<Vec<LocalItem>, RelayStoreError> {
        let now = int(now);
        let (client, st) = self.parts()?;
        let stmt = st.get(client, ENVELOPES_WITH_TAGS)?;
        let mut out = Vec::new();
        for row in client.query(&stmt, &[&tags, &now])? {
            out.push(LocalItem {
                id: array(&row, 0)?,
                expires_at: uint(row.try_get(1)?),
                kind: ItemKind::Envelope {
                    tag: RoutingTag(array(&row, 2)?),
                    commitment: Commitment(array(&row, 3)?),
                },
            });
        }
        Ok(out)
    }

    pub(super) fn items(&mut self, now: u64) -> Result<Vec<LocalItem>, RelayStoreError> {
        let now = int(now);
        let (client, st) = self.parts()?;
        let mut items = Vec::new();
        // Streamed: a full relay holds millions of envelopes, and rows are
        // much larger than the items made from them.
        let envelopes = st.get(client, ENVELOPE_INDEX)?;
        {
            let mut rows = client.query_raw(&envelopes, [&now as &dyn ToSql])?;
            while let Some(row) = rows.next()? {
                items.push(LocalItem {
                    id: array(&row, 0)?,
                    expires_at: uint(row.try_get(1)?),
                    kind: ItemKind::Envelope {
                        tag: RoutingTag(array(&row, 2)?),
                        commitment: Commitment(array(&row, 3)?),
                    },
                });
            }
        }
        let proofs = st.get(client, PROOF_INDEX)?;
        let mut rows = client.query_raw(&proofs, [&now as &dyn ToSql])?;
        while let Some(row) = rows.next()? {
            let commitment = Commitment(array(&row, 0)?);
            items.push(LocalItem {
                id: proof_item_id(&commitment),
                expires_at: uint(row.try_get(1)?),
                kind: ItemKind::Proof { commitment },
            });
        }
        Ok(items)
    }

    pub(super) fn envelope(
        &mut self,
        id: &[u8; 32],
        now: u64,
    ) -> Result<Option<Vec<u8>>, RelayStoreError> {
        let (client, st) = self.parts()?;
        let stmt = st.get(client, ENVELOPE_BYTES)?;
        let row = client.query_opt(&stmt, &[&&id[..], &int(now)])?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// The distinct blobs of the chunks held.
    pub(super) fn chunk_blobs(&mut self, now: u64) -> Result<Vec<[u8; 32]>, RelayStoreError> {
        let (client, st) = self.parts()?;
        let stmt = st.get(client, CHUNK_BLOBS)?;
        let mut out = Vec::new();
        for row in client.query(&stmt, &[&int(now)])? {
            out.push(array(&row, 0)?);
        }
        Ok(out)
    }

    /// The chunks of these blobs, as items.
    pub(super) fn chunks_of_blobs(
        &mut self,
        blobs: &[Vec<u8>],
        now: u64,
    ) -> Result<Vec<LocalItem>, RelayStoreError> {
        let (client, st) = self.parts()?;
        let stmt = st.get(client, CHUNKS_OF_BLOBS)?;
        let mut out = Vec::new();
        for row in client.query(&stmt, &[&blobs, &int(now)])? {
            out.push(LocalItem {
                id: array(&row, 0)?,
                expires_at: uint(row.try_get(2)?),
                kind: ItemKind::Chunk {
                    blob: array(&row, 1)?,
                    given: 0,
                },
            });
        }
        Ok(out)
    }

    pub(super) fn chunk(
        &mut self,
        id: &[u8; 32],
        now: u64,
    ) -> Result<Option<Vec<u8>>, RelayStoreError> {
        let (client, st) = self.parts()?;
        let stmt = st.get(client, CHUNK_BYTES)?;
        let row = client.query_opt(&stmt, &[&&id[..], &int(now)])?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub(super) fn proof(
        &mut self,
        commitment: &[u8; 32],
    ) -> Result<Option<[u8; 32]>, RelayStoreError> {
        let (client, st) = self.parts()?;
        let stmt = st.get(client, PROOF_SECRET)?;
        match client.query_opt(&stmt, &[&&commitment[..]])? {
            Some(row) => Ok(Some(array(&row, 0)?)),
            None => Ok(None),
        }
    }

    pub(super) fn seen(&mut self, id: &[u8; 32]) -> Result<bool, RelayStoreError> {
        let (client, st) = self.parts()?;
        let stmt = st.get(client, SEEN)?;
        Ok(client.query_one(&stmt, &[&&id[..]])?.try_get(0)?)
    }

    pub(super) fn ingest(
        &mut self,
        items: &[Incoming],
        origin: &str,
        now: u64,
    ) -> Result<(Vec<Received>, Vec<[u8; 32]>), RelayStoreError> {
        let limits = self.limits;
        let (client, st) = self.parts()?;
        ingest::run(client, st, limits, items, origin, now)
    }

    pub(super) fn expire(&mut self, now: u64) -> Result<Expired, RelayStoreError> {
        let now = int(now);
        let (client, st) = self.parts()?;
        let mut tx = client.transaction()?;
        let lock = st.get(&mut tx, LOCK)?;
        tx.execute(&lock, &[&WRITE_LOCK])?;
        let mut delete = |sql| -> Result<u64, RelayStoreError> {
            let stmt = st.get(&mut tx, sql)?;
            Ok(tx.execute(&stmt, &[&now])?)
        };
        let expired = Expired {
            envelopes: delete(EXPIRE_ENVELOPES)?,
            proofs: delete(EXPIRE_PROOFS)?,
            seen: delete(EXPIRE_SEEN)?,
            chunks: delete(EXPIRE_CHUNKS)?,
        };
        tx.commit()?;
        if expired != Expired::default() {
            tracing::debug!(?expired, "expired relay items");
        }
        Ok(expired)
    }

    pub(super) fn relay_key(&mut self, fresh: [u8; 32]) -> Result<[u8; 32], RelayStoreError> {
        let (client, _) = self.parts()?;
        // Racing relays: the first insert wins, everyone reads the winner.
        client.execute(
            "INSERT INTO relay_key (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
            &[&&fresh[..]],
        )?;
        let row = client.query_one("SELECT secret FROM relay_key WHERE id = 1", &[])?;
        let secret: Vec<u8> = row.try_get(0)?;
        secret
            .try_into()
            .map_err(|_| RelayStoreError::Corrupt("relay_key is not 32 bytes".into()))
    }

    pub(super) fn usage(&mut self) -> Result<RelayUsage, RelayStoreError> {
        let (client, st) = self.parts()?;
        let stmt = st.get(client, USAGE)?;
        let row = client.query_one(&stmt, &[])?;
        Ok(RelayUsage {
            bytes: uint(row.try_get(0)?),
            envelopes: uint(row.try_get(1)?),
            proofs: uint(row.try_get(2)?),
        })
    }
}
