//! The LMS of the LTI tests: `tests/lti/platform.py`, an LTI 1.3 platform built on the PyPI
//! library `lti1p3platform` (0.1.8, installed in `.venv` by scripts/venv.sh), run as its own
//! process; and the browser steps between it and the tool (the test plays the browser: it follows
//! the redirects and posts the forms itself, sending no cookie).

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use reqwest::{Method, StatusCode, redirect::Policy};
use serde_json::{Value, json};
use vivid_domain::{
    sessions::AccessTokenIssuer,
    types::{Email, UserId, now_rfc3339},
    users::User,
};

use crate::{Reply, TestApp, TestUser, repo_root};

/// The platform process, ended when dropped.
pub struct LtiPlatform {
    child: Child,
    pub base: String,
    /// A browser that follows no redirect and keeps no cookie.
    pub browser: reqwest::Client,
}

impl Drop for LtiPlatform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a launch ended: the tool's answer to the platform's form post.
pub struct Launched {
    pub reply: Reply,
    /// The one-time code of the front end's address (`#ltiCode=..`), when the launch went through.
    pub code: Option<String>,
}

impl LtiPlatform {
    pub fn start() -> Self {
        let root = repo_root();
        let mut child = Command::new(root.join(".venv/bin/python"))
            .arg(root.join("tests/lti/platform.py"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("the LTI platform starts (.venv with lti1p3platform: scripts/venv.sh)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("its address");
        let browser = reqwest::Client::builder().redirect(Policy::none()).build().expect("client");
        Self { child, base: line.trim().to_owned(), browser }
    }

    async fn json(&self, req: reqwest::RequestBuilder) -> Value {
        let resp = req.send().await.expect("platform reached");
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "platform answered {status}: {body}");
        body
    }

    /// What the platform's test routes answer (`/_test/...`).
    pub async fn get(&self, path: &str) -> Value {
        self.json(self.browser.get(format!("{}{path}", self.base))).await
    }

    /// Registers the tool by LTI Dynamic Registration with `registration_url` (the tool's
    /// one-time URL): the platform's start, the tool's answer page; the tool's client id.
    pub async fn register(&self, registration_url: &str) -> (Reply, Option<String>) {
        let start = self.get(&format!("/_test/registration-start?tool={}", urlencode(registration_url))).await;
        let url = start["url"].as_str().expect("registration start");
        let resp = self.browser.get(url).send().await.expect("tool reached");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let reply = if status == StatusCode::OK {
            Reply { status, headers: Default::default(), body: json!({ "page": text }) }
        } else {
            Reply { status, headers: Default::default(), body: serde_json::from_str(&text).unwrap_or(Value::Null) }
        };
        let client = self.get("/_test/registration").await["client_id"].as_str().map(str::to_owned);
        (reply, client)
    }

    /// A launch of login hint `hint` holding `spec` (see platform.py: user, roles, context,
    /// deep_linking, custom, target, tamper): the login initiation at the tool, its redirect to
    /// the platform, the platform's ID token posted to the tool.
    pub async fn launch(&self, hint: &str, spec: Value) -> Launched {
        let (id_token, state, action) = self.authenticate(hint, spec).await;
        self.post_launch(&action, &id_token, &state).await
    }

    /// The steps up to the platform's form post: `(id_token, state, action)`.
    pub async fn authenticate(&self, hint: &str, spec: Value) -> (String, String, String) {
        let put = self.browser.put(format!("{}/_test/hints/{hint}", self.base)).json(&spec).send().await;
        assert!(put.expect("platform reached").status().is_success());
        let login = self.get(&format!("/_test/login-url?hint={hint}")).await;
        let login_url = login["url"].as_str().expect("login url");
        let resp = self.browser.get(login_url).send().await.expect("tool reached");
        assert_eq!(resp.status(), StatusCode::FOUND, "login initiation: {:?}", resp.text().await);
        let location = resp.headers()["location"].to_str().expect("location").to_owned();
        assert!(location.starts_with(&format!("{}/auth?", self.base)), "{location}");
        let form = self.json(self.browser.get(&location)).await;
        let field = |name: &str| form[name].as_str().expect(name).to_owned();
        (field("id_token"), field("state"), field("action"))
    }

    /// A launch of `hint` from another deployment of the tool, `deployment` (platform.py's own is
    /// `deployment-1`): the login initiation names it (`lti_deployment_id`) and the ID token
    /// carries it, as an LMS's launch from a second installation of the tool does. A login the
    /// tool refuses ends there: its answer is the reply.
    pub async fn launch_in_deployment(&self, hint: &str, mut spec: Value, deployment: &str) -> Launched {
        spec["tamper"]["deployment"] = deployment.into();
        let put = self.browser.put(format!("{}/_test/hints/{hint}", self.base)).json(&spec).send().await;
        assert!(put.expect("platform reached").status().is_success());
        let login = self.get(&format!("/_test/login-url?hint={hint}")).await;
        // Its own deployment id needs no escaping (Python's urlencode leaves it as it is).
        let own = format!("lti_deployment_id={LTI_DEPLOYMENT}");
        let login_url = login["url"].as_str().expect("login url");
        assert!(login_url.contains(&own), "the login names the platform's deployment: {login_url}");
        let login_url = login_url.replace(&own, &format!("lti_deployment_id={}", urlencode(deployment)));
        let resp = self.browser.get(&login_url).send().await.expect("tool reached");
        if resp.status() != StatusCode::FOUND {
            return Launched { reply: TestApp::reply(resp).await, code: None };
        }
        let location = resp.headers()["location"].to_str().expect("location").to_owned();
        let form = self.json(self.browser.get(&location)).await;
        let field = |name: &str| form[name].as_str().expect(name).to_owned();
        self.post_launch(&field("action"), &field("id_token"), &field("state")).await
    }

    /// The platform's form post of `id_token` and `state` to the tool's `action`.
    pub async fn post_launch(&self, action: &str, id_token: &str, state: &str) -> Launched {
        let body = format!("id_token={}&state={}", urlencode(id_token), urlencode(state));
        let resp = self
            .browser
            .post(action)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("tool reached");
        let reply = TestApp::reply(resp).await;
        let code = reply.header("location").and_then(|l| l.split_once("#ltiCode=")).map(|(_, c)| c.to_owned());
        Launched { reply, code }
    }
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The deployment platform.py's registrations and launches name.
pub const LTI_DEPLOYMENT: &str = "deployment-1";

/// The LTI administrator of every test stack (`LtiAdmins`; tests/src/app.rs).
pub const LTI_ADMIN: &str = "lti-admin@vivid.test";

impl TestApp {
    /// The stack's LTI administrator, signed in (made on the first call).
    pub async fn lti_admin(&self) -> TestUser {
        let email: Email = LTI_ADMIN.parse().expect("address");
        let user = match self.users().find_user_by_email(&email).await.expect("read") {
            Some(user) => user,
            None => {
                let (user, personal) = User::sign_up(email, "Operator".into(), None, &now_rfc3339());
                self.users().create_user(&user, &personal, None).await.expect("admin seeded");
                user
            }
        };
        let token = self.stack.issuer.issue_access(&user.user_id, &user.email).expect("token").token;
        TestUser { user, token }
    }

    /// A one-time registration URL, made by the LTI administrator.
    pub async fn lti_invitation(&self) -> String {
        let admin = self.lti_admin().await;
        let r = self.call(Method::POST, "/lti/registration-invitations", Some(&admin.token), None).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["registrationUrl"].as_str().expect("url").to_owned()
    }
}

/// What the sample events of the LTI functions need to succeed (`tests/tests/stack/events.rs`):
/// a platform registered with the stack.
pub struct LtiSamples {
    platform: LtiPlatform,
    /// Platforms a sample registers on its own, kept running until the samples are done.
    others: std::sync::Mutex<Vec<LtiPlatform>>,
}

impl LtiSamples {
    pub async fn new(app: &TestApp) -> Self {
        let platform = LtiPlatform::start();
        let (page, _) = platform.register(&app.lti_invitation().await).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        Self { platform, others: Default::default() }
    }

    /// Whether `function` is one of the LTI functions this fills samples for.
    pub fn drives(function: &str) -> bool {
        function.starts_with("lti-")
            || function.ends_with("-lti-invitation")
            || function.ends_with("-lti-registration")
            || function.ends_with("-lti-registrations")
            || function.ends_with("-lti-deployment")
    }

    fn instructor(user: &str, deep_linking: bool) -> Value {
        json!({ "user": user, "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
                "context": "course-samples", "title": "Samples", "deep_linking": deep_linking })
    }

    /// A launch's session: `(the person signed in, launch)`.
    async fn session(&self, app: &TestApp, hint: &str, deep_linking: bool) -> (TestUser, Value) {
        let launched = self.platform.launch(hint, Self::instructor("sample-teacher", deep_linking)).await;
        let code = launched.code.expect("a launch");
        let s = app.call(Method::POST, "/lti/session", None, Some(json!({ "code": code }))).await;
        let id: UserId = s.body["user"]["userId"].as_str().expect("user").parse().expect("user id");
        let user = app.users().get_user(&id).await.expect("read").expect("user");
        (TestUser { user, token: s.body["accessToken"].as_str().expect("token").to_owned() }, s.body["launch"].clone())
    }

    /// Fills `event` (the function's sample, for this stack) with what makes it succeed.
    pub async fn fill(&self, app: &TestApp, function: &str, event: &mut Value) {
        let admin = || async { format!("Bearer {}", app.lti_admin().await.token) };
        let query = |event: &mut Value, url: &str| {
            let raw = url.split_once('?').map(|(_, q)| q).unwrap_or("");
            event["rawQueryString"] = raw.into();
            let params: serde_json::Map<String, Value> = raw
                .split('&')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.to_owned(), crate::form_decode(v).into()))
                .collect();
            event["queryStringParameters"] = Value::Object(params);
        };
        match function {
            // A registration by hand: the sample's own values (an issuer no test registers).
            "create-lti-invitation" | "list-lti-registrations" | "create-lti-registration" => {
                event["headers"]["authorization"] = admin().await.into()
            }
            // A deployment added to the shared platform's registration (its launches name
            // platform.py's own, which stays).
            "add-lti-deployment" => {
                app.indexes_settled().await;
                let list = app.get("/lti/registrations", &app.lti_admin().await.token).await;
                let id = list.body["items"]
                    .as_array()
                    .and_then(|items| items.iter().find(|i| i["issuer"] == json!(self.platform.base)))
                    .and_then(|i| i["registrationId"].as_str())
                    .expect("registration")
                    .to_owned();
                event["headers"]["authorization"] = admin().await.into();
                event["pathParameters"]["registrationId"] = id.clone().into();
                let raw = format!("/lti/registrations/{id}/deployments");
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
            }
            "delete-lti-registration" => {
                // A registration of its own (the shared one stays for the launches).
                let other = LtiPlatform::start();
                other.register(&app.lti_invitation().await).await;
                app.indexes_settled().await;
                let list = app.get("/lti/registrations", &app.lti_admin().await.token).await;
                let id = list.body["items"]
                    .as_array()
                    .and_then(|items| items.iter().find(|i| i["issuer"] == json!(other.base)))
                    .and_then(|i| i["registrationId"].as_str())
                    .expect("registration")
                    .to_owned();
                event["headers"]["authorization"] = admin().await.into();
                event["pathParameters"]["registrationId"] = id.clone().into();
                let raw = format!("/lti/registrations/{id}");
                event["rawPath"] = raw.clone().into();
                event["requestContext"]["http"]["path"] = raw.into();
            }
            "lti-register" => {
                let other = LtiPlatform::start();
                let tool = app.lti_invitation().await;
                let start = other.get(&format!("/_test/registration-start?tool={}", urlencode(&tool))).await;
                query(event, start["url"].as_str().expect("url"));
                // The platform must outlive the call: it answers the registration.
                self.others.lock().expect("lock").push(other);
            }
            "lti-login" | "lti-login-post" => {
                let put = self.platform.browser.put(format!("{}/_test/hints/sample", self.platform.base));
                assert!(put.json(&Self::instructor("sample-teacher", false)).send().await.is_ok());
                let login = self.platform.get("/_test/login-url?hint=sample").await;
                let url = login["url"].as_str().expect("url");
                if function == "lti-login" {
                    query(event, url);
                } else {
                    event["body"] = url.split_once('?').map(|(_, q)| q).unwrap_or("").into();
                }
            }
            "lti-launch" => {
                let (id_token, state, _) =
                    self.platform.authenticate("launch", Self::instructor("sample-teacher", false)).await;
                event["body"] = format!("id_token={}&state={}", urlencode(&id_token), urlencode(&state)).into();
            }
            "lti-session" => {
                let launched = self.platform.launch("session", Self::instructor("sample-teacher", false)).await;
                event["body"] = json!({ "code": launched.code.expect("code") }).to_string().into();
            }
            // A pick is 1 to 20 videos of the course's space: one its host made ready there.
            "lti-deep-link" => {
                let (teacher, launch) = self.session(app, "dl", true).await;
                let space = launch["spaceId"].as_str().expect("the course's space");
                let video = app.ready_video(space, &teacher).await;
                event["headers"]["authorization"] = format!("Bearer {}", teacher.token).into();
                let pick = json!({ "deepLinkId": launch["deepLinkId"], "videoIds": [video] });
                event["body"] = pick.to_string().into();
            }
            _ => {}
        }
    }
}
