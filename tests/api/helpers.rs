//! A real server per test, on `127.0.0.1:0`, with its own database: a SQLite file by default,
//! or a fresh database on the server named by `TEST_DATABASE_URL` (PostgreSQL or MariaDB).

use std::time::Duration;

use image_service::auth::{self, KeySource, Secret};
use image_service::entity::{image, image_member, image_tag, tag};
use image_service::proto::image_service_client::ImageServiceClient;
use image_service::proto::tag_service_client::TagServiceClient;
use image_service::proto::user_service_client::UserServiceClient;
use image_service::proto::*;
use image_service::startup::{self, Running, Settings};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, Statement};
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

const SECRET: &str = "test-secret";

/// Adds the bearer token of one user to every call.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

pub type Images = ImageServiceClient<InterceptedService<Channel, Bearer>>;
pub type Tags = TagServiceClient<InterceptedService<Channel, Bearer>>;
pub type Users = UserServiceClient<InterceptedService<Channel, Bearer>>;

/// A running server and the means to call it as any user.
pub struct TestApp {
    running: Option<Running>,
    pub channel: Channel,
    /// The database server and the test's database on it, dropped with the app.
    server_database: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some((server, name)) = self.server_database.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on async work: use a
        // runtime of its own on another thread. Best effort; a leftover database is harmless.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let Ok(db) = sea_orm::Database::connect(server.as_str()).await else {
                    return;
                };
                let drop = match db.get_database_backend() {
                    sea_orm::DbBackend::Postgres => {
                        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                    }
                    _ => format!("DROP DATABASE IF EXISTS {name}"),
                };
                let _ = db.execute_unprepared(&drop).await;
                let _ = db.close().await;
            });
        })
        .join();
    }
}

/// A fresh database URL for one test, and the server and database name to drop afterwards.
async fn fresh_database(dir: &std::path::Path) -> (String, Option<(String, String)>) {
    let Ok(server) = std::env::var("TEST_DATABASE_URL") else {
        return (
            format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
            None,
        );
    };
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let db = sea_orm::Database::connect(server.as_str())
        .await
        .expect("TEST_DATABASE_URL must be reachable");
    let create = match db.get_database_backend() {
        sea_orm::DbBackend::MySql => {
            format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        }
        _ => format!("CREATE DATABASE {name}"),
    };
    db.execute_unprepared(&create)
        .await
        .expect("create the test database");
    let _ = db.close().await;
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    (format!("{base}/{name}"), Some((server.clone(), name)))
}

impl TestApp {
    /// Starts a server with users root (an administrator), alice, bob, carol, dave and erin.
    pub async fn spawn() -> TestApp {
        Self::spawn_with_metrics(None).await
    }

    /// Like [`TestApp::spawn`], serving Prometheus metrics on `metrics_listen`.
    pub async fn spawn_with_metrics(metrics_listen: Option<std::net::SocketAddr>) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, server_database) = fresh_database(dir.path()).await;
        let running = startup::start(Settings {
            listen: "127.0.0.1:0".parse().expect("address"),
            database_url,
            max_connections: 4,
            key_source: KeySource::Secret(Secret::new(SECRET)),
            shutdown_grace: Duration::from_secs(5),
            health_interval: Duration::from_millis(200),
            metrics_listen,
        })
        .await
        .expect("server starts");
        let channel = Channel::from_shared(format!("http://{}", running.addr()))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        let app = TestApp {
            running: Some(running),
            channel,
            server_database,
            _dir: dir,
        };
        for (id, username) in [
            ("root", "root"),
            ("alice", "alice"),
            ("bob", "bob"),
            ("carol", "carol"),
            ("dave", "dave"),
            ("erin", "erin"),
        ] {
            app.add_user(id, username).await;
        }
        app
    }

    /// The database server's URL and this test's database on it; `None` on SQLite.
    pub fn server_database(&self) -> Option<&(String, String)> {
        self.server_database.as_ref()
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().expect("running")
    }

    pub async fn add_user(&self, id: &str, username: &str) {
        let new =
            image_service::domain::user::NewUser::parse(id, username, "").expect("valid user");
        self.running()
            .store()
            .create_user(&new)
            .await
            .expect("user added");
    }

    pub fn token(&self, user: &str, admin: bool) -> String {
        auth::mint(
            &KeySource::Secret(Secret::new(SECRET)),
            user,
            admin,
            Duration::from_secs(600),
        )
        .expect("token")
    }

    fn bearer(&self, user: &str) -> Bearer {
        let admin = user == "root";
        let value = format!("Bearer {}", self.token(user, admin));
        Bearer(Some(value.parse().expect("ascii token")))
    }

    /// The image service as `user` (`root` is an administrator).
    pub fn images(&self, user: &str) -> Images {
        ImageServiceClient::with_interceptor(self.channel.clone(), self.bearer(user))
    }

    pub fn images_anonymous(&self) -> Images {
        ImageServiceClient::with_interceptor(self.channel.clone(), Bearer(None))
    }

    pub fn images_with_header(&self, header: &str) -> Images {
        ImageServiceClient::with_interceptor(
            self.channel.clone(),
            Bearer(Some(header.parse().expect("ascii"))),
        )
    }

    pub fn tags(&self, user: &str) -> Tags {
        TagServiceClient::with_interceptor(self.channel.clone(), self.bearer(user))
    }

    pub fn users(&self, user: &str) -> Users {
        UserServiceClient::with_interceptor(self.channel.clone(), self.bearer(user))
    }

    /// Every row of the image, share, tag and binding tables, to show that a refused call
    /// changed nothing.
    pub async fn snapshot(&self) -> Snapshot {
        let db = self.running().store().connection();
        Snapshot {
            images: image::Entity::find()
                .order_by_asc(image::Column::Id)
                .all(db)
                .await
                .expect("images"),
            members: image_member::Entity::find()
                .order_by_asc(image_member::Column::ImageId)
                .order_by_asc(image_member::Column::UserId)
                .all(db)
                .await
                .expect("members"),
            tags: tag::Entity::find()
                .order_by_asc(tag::Column::Id)
                .all(db)
                .await
                .expect("tags"),
            bindings: image_tag::Entity::find()
                .order_by_asc(image_tag::Column::ImageId)
                .order_by_asc(image_tag::Column::TagId)
                .all(db)
                .await
                .expect("bindings"),
        }
    }

    /// Rows in `table`.
    pub async fn count(&self, table: &str) -> i64 {
        let db = self.running().store().connection();
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("n")
    }

    /// Registers an image owned by `user` (or a system image when `user` is root).
    pub async fn create(&self, user: &str, name: &str) -> Image {
        self.images(user)
            .create_image(CreateImageRequest {
                image: Some(Image {
                    name: name.into(),
                    description: format!("{name} description"),
                    disk_format: DiskFormat::Qcow2.into(),
                    os_type: OsType::Linux.into(),
                    os_distro: "ubuntu".into(),
                    os_version: "24.04".into(),
                    architecture: Architecture::X8664.into(),
                    size_bytes: 2 << 30,
                    min_disk_gb: 10,
                    min_ram_mb: 1024,
                    ..Default::default()
                }),
                system: user == "root",
                request_id: String::new(),
            })
            .await
            .expect("image created")
            .into_inner()
            .image
            .expect("image")
    }

    pub async fn get(&self, user: &str, id: &str) -> Result<Image, Status> {
        self.images(user)
            .get_image(GetImageRequest { id: id.into() })
            .await
            .map(|r| r.into_inner().image.expect("image"))
    }

    /// Names of the images `user` sees in `category`, in listing order.
    pub async fn names(&self, user: &str, category: ImageCategory) -> Vec<String> {
        self.list(
            user,
            ListImagesRequest {
                category: category.into(),
                page_size: 1000,
                ..Default::default()
            },
        )
        .await
        .into_iter()
        .map(|i| i.name)
        .collect()
    }

    pub async fn list(&self, user: &str, request: ListImagesRequest) -> Vec<Image> {
        self.images(user)
            .list_images(request)
            .await
            .expect("list")
            .into_inner()
            .images
    }

    pub async fn share(
        &self,
        user: &str,
        id: &str,
        users: &[&str],
    ) -> Result<ShareImageResponse, Status> {
        self.images(user)
            .share_image(ShareImageRequest {
                id: id.into(),
                users: users.iter().map(|u| (*u).to_owned()).collect(),
                request_id: String::new(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn revoke(
        &self,
        user: &str,
        id: &str,
        users: &[&str],
    ) -> Result<RevokeImageSharesResponse, Status> {
        self.images(user)
            .revoke_image_shares(RevokeImageSharesRequest {
                id: id.into(),
                users: users.iter().map(|u| (*u).to_owned()).collect(),
                validate_only: false,
                request_id: String::new(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn tag(&self, user: &str, key: &str, value: &str) -> Tag {
        self.tags(user)
            .create_tag(CreateTagRequest {
                tag: Some(Tag {
                    key: key.into(),
                    value: value.into(),
                    ..Default::default()
                }),
            })
            .await
            .expect("tag created")
            .into_inner()
            .tag
            .expect("tag")
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.expect("clean shutdown");
        }
    }
}

/// The rows of every table a call could change.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub images: Vec<image::Model>,
    pub members: Vec<image_member::Model>,
    pub tags: Vec<tag::Model>,
    pub bindings: Vec<image_tag::Model>,
}

/// The code of a failed call; panics on success.
pub fn code<T: std::fmt::Debug>(result: Result<T, Status>) -> Code {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(status) => status.code(),
    }
}

/// The fields named by the `BadRequest` details of a status.
pub fn bad_fields(status: &Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// The resource names of the `ResourceInfo` details of a status.
pub fn resource_names(status: &Status) -> Vec<String> {
    use tonic_types::{ErrorDetail, StatusExt};
    status
        .get_error_details_vec()
        .into_iter()
        .filter_map(|d| match d {
            ErrorDetail::ResourceInfo(info) => Some(info.resource_name),
            _ => None,
        })
        .collect()
}

/// The error of a call that must fail.
pub fn err<T: std::fmt::Debug>(result: Result<T, Status>) -> Status {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(status) => status,
    }
}
