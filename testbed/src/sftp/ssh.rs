//! The SSH side of the in-process SFTP server: authentication and the `sftp` subsystem.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use russh::keys::PublicKey;
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId};

use super::fs::SftpFs;
use super::paths::Jail;

/// Who may log in: one user, by password or by one of the authorized keys.
pub(crate) struct Users {
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) authorized: Vec<PublicKey>,
}

impl Users {
    fn password_ok(&self, user: &str, password: &str) -> bool {
        user == self.user && password == self.password
    }

    fn key_ok(&self, user: &str, key: &PublicKey) -> bool {
        user == self.user
            && self
                .authorized
                .iter()
                .any(|k| k.key_data() == key.key_data())
    }
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users")
            .field("user", &self.user)
            .field("authorized_keys", &self.authorized.len())
            .finish_non_exhaustive()
    }
}

/// Makes one [`Connection`] per client.
#[derive(Debug, Clone)]
pub(crate) struct Factory {
    pub(crate) users: Arc<Users>,
    pub(crate) jail: Arc<Jail>,
}

impl russh::server::Server for Factory {
    type Handler = Connection;

    fn new_client(&mut self, peer: Option<SocketAddr>) -> Connection {
        tracing::debug!(?peer, "SFTP client connected");
        Connection {
            users: self.users.clone(),
            jail: self.jail.clone(),
            channels: HashMap::new(),
        }
    }
}

/// One SSH connection.
pub(crate) struct Connection {
    users: Arc<Users>,
    jail: Arc<Jail>,
    /// Session channels opened but not yet turned into a subsystem.
    channels: HashMap<ChannelId, Channel<Msg>>,
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        Ok(if self.users.password_ok(user, password) {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    /// Answers "would you accept this key?" honestly; the signature check that grants access
    /// is `auth_publickey`.
    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(if self.users.key_ok(user, offer.public_key) {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(if self.users.key_ok(user, key.public_key) {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.remove(&channel);
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match (name, self.channels.remove(&channel)) {
            ("sftp", Some(ch)) => {
                session.channel_success(channel)?;
                // Spawns the SFTP loop and returns; it ends when the client closes the channel.
                russh_sftp::server::run(ch.into_stream(), SftpFs::new(self.jail.clone())).await;
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }
}
