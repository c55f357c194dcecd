//! Identity: bearer JWTs signed by the platform's identity service. The verifying key is an
//! HS256 secret or an Ed25519/RSA public key; with neither configured, a development secret is
//! generated once in the data folder, which the `token` subcommand uses to mint tokens.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The role that marks a platform administrator.
pub const ADMIN_ROLE: &str = "admin";

/// File name of the development secret inside the data folder.
const DEV_KEY_FILE: &str = "dev-jwt-secret";

/// A secret whose `Debug` does not print it.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Where the verifying key comes from.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// An HS256 secret shared with the identity service.
    Secret(Secret),
    /// A PEM file with the identity service's Ed25519 or RSA public key.
    PublicKey(PathBuf),
    /// A development secret kept in this data folder, created on first use.
    Development(PathBuf),
}

/// The claims this service reads.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The calling user's id.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at, seconds since the Unix epoch.
    #[serde(default)]
    pub iat: u64,
    /// Roles; `admin` marks a platform administrator.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl Claims {
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == ADMIN_ROLE)
    }
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("algorithms", &self.validation.algorithms)
            .finish()
    }
}

impl Verifier {
    /// Loads the verifying key; a development secret is created if needed.
    pub fn load(source: &KeySource) -> anyhow::Result<Self> {
        let (key, algorithms) = match source {
            KeySource::Secret(secret) => (
                {
                    if secret.expose().len() < 32 {
                        tracing::warn!(
                            "the JWT secret is shorter than 32 bytes; HS256 wants at least 256 bits"
                        );
                    }
                    DecodingKey::from_secret(secret.expose()).context("loading the secret")?
                },
                vec![Algorithm::HS256],
            ),
            KeySource::Development(dir) => {
                let secret = development_secret(dir)?;
                tracing::warn!(
                    path = %dir.join(DEV_KEY_FILE).display(),
                    "verifying tokens with the development key; not for production"
                );
                (
                    DecodingKey::from_secret(secret.expose()).context("loading the secret")?,
                    vec![Algorithm::HS256],
                )
            }
            KeySource::PublicKey(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("reading public key {}", path.display()))?;
                match DecodingKey::from_ed_pem(&pem) {
                    Ok(key) => (key, vec![Algorithm::EdDSA]),
                    Err(_) => (
                        DecodingKey::from_rsa_pem(&pem).with_context(|| {
                            format!(
                                "{} is neither an Ed25519 nor an RSA public key",
                                path.display()
                            )
                        })?,
                        vec![Algorithm::RS256, Algorithm::RS384, Algorithm::RS512],
                    ),
                }
            }
        };
        let mut validation = Validation::new(algorithms[0]);
        validation.algorithms = algorithms;
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        validation.validate_nbf = true;
        Ok(Self { key, validation })
    }

    /// The claims of a valid token, or why it is not valid.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the token has expired".into(),
                jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                    "the token's signature is not valid".into()
                }
                jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(claim) => {
                    format!("the token has no {claim} claim")
                }
                _ => "the token is malformed".into(),
            })
    }
}

/// Mints a token for `user` with the HS256 secret of `source`.
pub fn mint(source: &KeySource, user: &str, admin: bool, ttl: Duration) -> anyhow::Result<String> {
    let secret = match source {
        KeySource::Secret(secret) => secret.clone(),
        KeySource::Development(dir) => development_secret(dir)?,
        KeySource::PublicKey(_) => anyhow::bail!(
            "tokens cannot be minted with a public key; the identity service issues them"
        ),
    };
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: user.to_owned(),
        exp: now + ttl.as_secs(),
        iat: now,
        roles: if admin {
            vec![ADMIN_ROLE.to_owned()]
        } else {
            Vec::new()
        },
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose()).context("loading the secret")?,
    )
    .context("signing the token")
}

/// Reads the development secret of `dir`, creating it (owner-only) on first use.
fn development_secret(dir: &Path) -> anyhow::Result<Secret> {
    let path = dir.join(DEV_KEY_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok(Secret::new(text.trim().as_bytes()));
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let bytes: [u8; 32] = rand::random();
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_owner_only(&path, &text)?;
    tracing::warn!(
        path = %path.display(),
        "generated a development signing key; configure --jwt-secret or --jwt-public-key in production"
    );
    // Another process may have won the race to create it: read back what is on disk.
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Secret::new(text.trim().as_bytes()))
}

#[cfg(unix)]
fn write_owner_only(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match file {
        Ok(mut file) => file
            .write_all(text.as_bytes())
            .with_context(|| format!("writing {}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err).with_context(|| format!("creating {}", path.display())),
    }
}

#[cfg(not(unix))]
fn write_owner_only(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_verifies_and_a_foreign_one_does_not() -> anyhow::Result<()> {
        let source = KeySource::Secret(Secret::new("s3cret"));
        let token = mint(&source, "alice", true, Duration::from_secs(60))?;
        let claims = Verifier::load(&source)?
            .verify(&token)
            .map_err(anyhow::Error::msg)?;
        assert_eq!(claims.sub, "alice");
        assert!(claims.is_admin());
        let other = Verifier::load(&KeySource::Secret(Secret::new("other")))?;
        assert_eq!(
            other.verify(&token).err().as_deref(),
            Some("the token's signature is not valid")
        );
        Ok(())
    }

    #[test]
    fn the_development_key_is_created_owner_only() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let source = KeySource::Development(dir.path().to_owned());
        let token = mint(&source, "bob", false, Duration::from_secs(60))?;
        assert!(Verifier::load(&source)?.verify(&token).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(DEV_KEY_FILE))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Ok(())
    }
}
