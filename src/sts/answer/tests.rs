//! Tests for the reader of STS's 200 answer: good answers, and a table of bad ones each
//! with its exact fault.

use super::*;
use proptest::prelude::*;

/// An answer as STS and moto send it, with the whitespace STS's documentation shows.
pub(crate) const GOOD: &str =
    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::123456789012:assumed-role/billing-api/s</Arn>
    <UserId>AROAEXAMPLE:s</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>
";

/// Wraps `result` (the content of `GetCallerIdentityResult`) in a correct response.
fn with_result(result: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <GetCallerIdentityResult>{result}</GetCallerIdentityResult>\
         </GetCallerIdentityResponse>"
    )
}

/// Wraps `content` (the content of the root) in a correct root element.
fn with_root_content(content: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         {content}</GetCallerIdentityResponse>"
    )
}

const FIELDS: &str = "<Arn>arn:aws:sts::123456789012:assumed-role/billing-api/s</Arn>\
                      <UserId>AROAEXAMPLE:s</UserId><Account>123456789012</Account>";

fn good_identity() -> CallerIdentity {
    CallerIdentity {
        arn: "arn:aws:sts::123456789012:assumed-role/billing-api/s".to_string(),
        user_id: "AROAEXAMPLE:s".to_string(),
        account: "123456789012".to_string(),
    }
}

fn read(body: &str) -> Result<CallerIdentity, AnswerError> {
    read_caller_identity(Some("text/xml"), body.as_bytes())
}

#[test]
fn a_well_formed_answer_is_read() {
    assert_eq!(read(GOOD), Ok(good_identity()));
}

#[test]
fn moto_s_answer_is_read_whatever_the_order_of_the_fields() {
    let moto = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
        <GetCallerIdentityResult><UserId>AROAEXAMPLE:s</UserId>\
        <Account>123456789012</Account>\
        <Arn>arn:aws:sts::123456789012:assumed-role/billing-api/s</Arn>\
        </GetCallerIdentityResult>\
        <ResponseMetadata><RequestId>Y5zcIDCKcktflRprN9P2</RequestId></ResponseMetadata>\
        </GetCallerIdentityResponse>";
    assert_eq!(read(moto), Ok(good_identity()));
}

#[test]
fn equivalent_well_formed_answers_are_read() {
    for body in [
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{GOOD}"),
        format!("<?xml version=\"1.0\"?>{GOOD}"),
        format!("\n  {GOOD}\n\n"),
        with_result(FIELDS),
        with_root_content(&format!(
            "<ResponseMetadata/><GetCallerIdentityResult>{FIELDS}</GetCallerIdentityResult>"
        )),
        with_root_content(&format!(
            "<GetCallerIdentityResult>{FIELDS}</GetCallerIdentityResult>\
             <ResponseMetadata><RequestId>a&amp;b</RequestId><Extra><x/></Extra>\
             </ResponseMetadata>"
        )),
        // A prefix bound to the STS namespace names the same elements.
        "<s:GetCallerIdentityResponse xmlns:s=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <s:GetCallerIdentityResult>\
         <s:Arn>arn:aws:sts::123456789012:assumed-role/billing-api/s</s:Arn>\
         <s:UserId>AROAEXAMPLE:s</s:UserId><s:Account>123456789012</s:Account>\
         </s:GetCallerIdentityResult></s:GetCallerIdentityResponse>"
            .to_string(),
    ] {
        assert_eq!(read(&body), Ok(good_identity()), "{body}");
    }
}

#[test]
fn values_keep_predefined_entities_and_nothing_else_is_changed() {
    let body = with_result(
        "<Arn>a&amp;b&lt;c&gt;d&apos;e&quot;f</Arn><UserId> u </UserId><Account>1</Account>",
    );
    assert_eq!(
        read(&body),
        Ok(CallerIdentity {
            arn: "a&b<c>d'e\"f".to_string(),
            user_id: " u ".to_string(),
            account: "1".to_string(),
        })
    );
}

#[test]
fn only_text_xml_is_read() {
    for content_type in [
        "text/xml",
        "TEXT/XML",
        "Text/Xml ; charset=utf-8",
        "text/xml;charset=\"UTF-8\"",
    ] {
        assert_eq!(
            read_caller_identity(Some(content_type), GOOD.as_bytes()),
            Ok(good_identity()),
            "{content_type}"
        );
    }
    for content_type in [
        None,
        Some(""),
        Some("application/xml"),
        Some("application/json"),
        Some("text/html"),
        Some("text/xmlx"),
        Some("text/xml; charset=iso-8859-1"),
        Some("text/xml; charset=utf-16"),
        Some("text/xml;"),
        Some("text/xml, application/json"),
    ] {
        assert_eq!(
            read_caller_identity(content_type, GOOD.as_bytes()),
            Err(AnswerError::ContentType),
            "{content_type:?}"
        );
    }
}

#[test]
fn answers_of_the_wrong_shape_are_refused_with_the_fault() {
    let ns = "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"";
    let cases: Vec<(&str, String, AnswerError)> = vec![
        (
            "JSON envelope holding the XML",
            format!(
                "{{\"body\": \"{}\"}}",
                with_result(FIELDS).replace('"', "\\\"")
            ),
            AnswerError::StrayText,
        ),
        (
            "STS error document",
            format!(
                "<ErrorResponse {ns}><Error><Type>Sender</Type><Code>Throttling</Code>\
                 <Message>Rate exceeded</Message></Error>\
                 <RequestId>x</RequestId></ErrorResponse>"
            ),
            AnswerError::ErrorDocument,
        ),
        (
            "error document without a namespace",
            "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>".into(),
            AnswerError::ErrorDocument,
        ),
        (
            "wrong namespace",
            with_result(FIELDS).replace("2011-06-15", "2011-06-16"),
            AnswerError::ForeignNamespace,
        ),
        (
            "no namespace",
            with_result(FIELDS).replace(&format!(" {ns}"), ""),
            AnswerError::ForeignNamespace,
        ),
        (
            "a value element taken out of the namespace",
            with_result(&FIELDS.replace("<Arn>", "<Arn xmlns=\"\">")),
            AnswerError::ForeignNamespace,
        ),
        (
            "a prefix bound to another namespace",
            with_result(
                &FIELDS
                    .replace("<Arn>", "<x:Arn xmlns:x=\"urn:evil\">")
                    .replace("</Arn>", "</x:Arn>"),
            ),
            AnswerError::ForeignNamespace,
        ),
        (
            "a second result",
            with_root_content(&format!(
                "<GetCallerIdentityResult>{FIELDS}</GetCallerIdentityResult>\
                 <GetCallerIdentityResult>{FIELDS}</GetCallerIdentityResult>"
            )),
            AnswerError::Duplicate("GetCallerIdentityResult"),
        ),
        (
            "no result",
            with_root_content("<ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>"),
            AnswerError::Missing("GetCallerIdentityResult"),
        ),
        (
            "a result hidden inside the metadata",
            with_root_content(&format!(
                "<ResponseMetadata><GetCallerIdentityResult>{FIELDS}\
                 </GetCallerIdentityResult></ResponseMetadata>"
            )),
            AnswerError::Missing("GetCallerIdentityResult"),
        ),
        (
            "a self-closing root",
            format!("<GetCallerIdentityResponse {ns}/>"),
            AnswerError::Missing("GetCallerIdentityResult"),
        ),
        (
            "an empty result",
            with_result(""),
            AnswerError::Missing("Arn"),
        ),
        (
            "a self-closing result",
            with_root_content("<GetCallerIdentityResult/>"),
            AnswerError::Missing("Arn"),
        ),
        (
            "no Arn",
            with_result("<UserId>AROAEXAMPLE:s</UserId><Account>123456789012</Account>"),
            AnswerError::Missing("Arn"),
        ),
        (
            "no UserId",
            with_result("<Arn>arn</Arn><Account>123456789012</Account>"),
            AnswerError::Missing("UserId"),
        ),
        (
            "no Account",
            with_result("<Arn>arn</Arn><UserId>AROAEXAMPLE:s</UserId>"),
            AnswerError::Missing("Account"),
        ),
        (
            "an empty Arn",
            with_result(
                &FIELDS.replace("arn:aws:sts::123456789012:assumed-role/billing-api/s", ""),
            ),
            AnswerError::Empty("Arn"),
        ),
        (
            "a blank Arn",
            with_result(&FIELDS.replace(
                "arn:aws:sts::123456789012:assumed-role/billing-api/s",
                " \n ",
            )),
            AnswerError::Empty("Arn"),
        ),
        (
            "a self-closing Account",
            with_result("<Arn>arn</Arn><UserId>AROAEXAMPLE:s</UserId><Account/>"),
            AnswerError::Empty("Account"),
        ),
        (
            "a second Arn",
            with_result(&format!(
                "{FIELDS}<Arn>arn:aws:sts::123456789012:assumed-role/admin/s</Arn>"
            )),
            AnswerError::Duplicate("Arn"),
        ),
        (
            "an extra element in the result",
            with_result(&format!("{FIELDS}<Extra>x</Extra>")),
            AnswerError::UnexpectedElement {
                parent: "GetCallerIdentityResult",
            },
        ),
        (
            "an extra element in the root",
            with_root_content(&format!(
                "<GetCallerIdentityResult>{FIELDS}</GetCallerIdentityResult><Extra/>"
            )),
            AnswerError::UnexpectedElement {
                parent: "GetCallerIdentityResponse",
            },
        ),
        (
            "an element inside a value",
            with_result(&FIELDS.replace("<Arn>", "<Arn><Arn>x</Arn>")),
            AnswerError::UnexpectedElement { parent: "Arn" },
        ),
        (
            "a second metadata",
            with_root_content(&format!(
                "<GetCallerIdentityResult>{FIELDS}</GetCallerIdentityResult>\
                 <ResponseMetadata/><ResponseMetadata/>"
            )),
            AnswerError::Duplicate("ResponseMetadata"),
        ),
        (
            "text in the result",
            with_result(&format!("x{FIELDS}")),
            AnswerError::StrayText,
        ),
        (
            "text in the root",
            with_root_content(&format!(
                "<GetCallerIdentityResult>{FIELDS}</GetCallerIdentityResult>x"
            )),
            AnswerError::StrayText,
        ),
        (
            "text before the root",
            format!("x{GOOD}"),
            AnswerError::StrayText,
        ),
        (
            "an attribute",
            with_result(&FIELDS.replace("<Arn>", "<Arn type=\"x\">")),
            AnswerError::UnexpectedAttribute,
        ),
        (
            "a document type declaration",
            format!("<!DOCTYPE GetCallerIdentityResponse>{GOOD}"),
            AnswerError::Forbidden(Construct::DocumentType),
        ),
        (
            "an entity declared in a document type",
            format!(
                "<!DOCTYPE r [<!ENTITY arn \"arn:aws:sts::123456789012:assumed-role/a/s\">]>{}",
                with_result(&FIELDS.replace(
                    "arn:aws:sts::123456789012:assumed-role/billing-api/s",
                    "&arn;"
                ))
            ),
            AnswerError::Forbidden(Construct::DocumentType),
        ),
        (
            "an undeclared entity",
            with_result(&FIELDS.replace("billing-api", "&role;")),
            AnswerError::Forbidden(Construct::EntityReference),
        ),
        (
            "a character reference",
            with_result(&FIELDS.replace("billing-api", "billing&#45;api")),
            AnswerError::Forbidden(Construct::CharacterReference),
        ),
        (
            "a comment inside a value",
            with_result(&FIELDS.replace("billing-api", "billing<!---->-api")),
            AnswerError::Forbidden(Construct::Comment),
        ),
        (
            "a comment inside the metadata",
            with_root_content(&format!(
                "<GetCallerIdentityResult>{FIELDS}</GetCallerIdentityResult>\
                 <ResponseMetadata><!-- x --></ResponseMetadata>"
            )),
            AnswerError::Forbidden(Construct::Comment),
        ),
        (
            "a comment after the root",
            format!("{GOOD}<!-- x -->"),
            AnswerError::Forbidden(Construct::Comment),
        ),
        (
            "a CDATA section",
            with_result(&FIELDS.replace("billing-api", "<![CDATA[billing-api]]>")),
            AnswerError::Forbidden(Construct::CData),
        ),
        (
            "a processing instruction",
            format!("<?xml-stylesheet href=\"x\"?>{GOOD}"),
            AnswerError::Forbidden(Construct::ProcessingInstruction),
        ),
        (
            "a declaration after whitespace",
            format!(" <?xml version=\"1.0\"?>{GOOD}"),
            AnswerError::Forbidden(Construct::MisplacedDeclaration),
        ),
        (
            "two declarations",
            format!("<?xml version=\"1.0\"?><?xml version=\"1.0\"?>{GOOD}"),
            AnswerError::Forbidden(Construct::MisplacedDeclaration),
        ),
        (
            "a declaration for another encoding",
            format!("<?xml version=\"1.0\" encoding=\"UTF-16\"?>{GOOD}"),
            AnswerError::Declaration,
        ),
        (
            "a declaration for XML 1.1",
            format!("<?xml version=\"1.1\"?>{GOOD}"),
            AnswerError::Declaration,
        ),
        (
            "an element after the root",
            format!("{GOOD}<Extra {ns}/>"),
            AnswerError::ContentAfterRoot,
        ),
        (
            "an element outside the namespace after the root",
            format!("{GOOD}<Extra/>"),
            AnswerError::ForeignNamespace,
        ),
        (
            "a second root with another identity",
            format!(
                "{GOOD}{}",
                with_result(&FIELDS.replace("billing-api", "admin"))
            ),
            AnswerError::ContentAfterRoot,
        ),
        (
            "text after the root",
            format!("{GOOD}x"),
            AnswerError::ContentAfterRoot,
        ),
        (
            "a GetCallerIdentity answer reflected inside another action's answer",
            format!(
                "<AssumeRoleResponse {ns}><AssumeRoleResult><AssumedRoleUser><Arn>{}</Arn>\
                 </AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>",
                with_result(FIELDS)
            ),
            AnswerError::WrongRoot,
        ),
        (
            "a GetCallerIdentity answer nested in an unknown element",
            format!("<Wrapper {ns}>{}</Wrapper>", with_result(FIELDS)),
            AnswerError::WrongRoot,
        ),
        (
            "the result as the root",
            format!("<GetCallerIdentityResult {ns}>{FIELDS}</GetCallerIdentityResult>"),
            AnswerError::WrongRoot,
        ),
        ("an empty body", String::new(), AnswerError::NoRootElement),
        (
            "only whitespace",
            " \n\t".into(),
            AnswerError::NoRootElement,
        ),
        (
            "a document cut between elements",
            GOOD[..GOOD.find("<UserId>").unwrap()].to_string(),
            AnswerError::Truncated,
        ),
        (
            "a document cut inside a value",
            GOOD[..GOOD.find("billing-api").unwrap()].to_string(),
            AnswerError::Truncated,
        ),
    ];
    for (name, body, error) in cases {
        assert_eq!(read(&body), Err(error), "{name}");
    }
}

#[test]
fn ill_formed_xml_is_refused() {
    for (name, body) in [
        (
            "a document cut inside a tag",
            GOOD[..GOOD.find("Account>").unwrap()].to_string(),
        ),
        ("a mismatched end tag", GOOD.replace("</Account>", "</Arn>")),
        ("an unmatched end tag", format!("</Arn>{GOOD}")),
        (
            "a lone ampersand",
            GOOD.replace("billing-api", "billing&api"),
        ),
        (
            "a repeated namespace declaration",
            GOOD.replace(
                "<GetCallerIdentityResponse ",
                "<GetCallerIdentityResponse xmlns=\"x\" ",
            ),
        ),
        (
            "an attribute without a value",
            GOOD.replace("<Arn>", "<Arn xmlns>"),
        ),
    ] {
        let error = read(&body).unwrap_err();
        assert!(
            matches!(error, AnswerError::IllFormed { .. }),
            "{name}: {error:?}"
        );
    }
}

#[test]
fn every_cut_of_a_good_answer_is_refused() {
    let end_of_root = GOOD.trim_end().len();
    for cut in 0..end_of_root {
        assert!(read(&GOOD[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn a_body_that_is_not_utf8_is_refused() {
    let mut body = GOOD.as_bytes().to_vec();
    let at = GOOD.find("billing").unwrap();
    body[at] = 0xff;
    assert_eq!(
        read_caller_identity(Some("text/xml"), &body),
        Err(AnswerError::NotUtf8)
    );
}

#[test]
fn a_body_over_sixteen_kib_is_refused() {
    let at_limit = format!("{GOOD}{}", " ".repeat(MAX_ANSWER_BYTES - GOOD.len()));
    assert_eq!(read(&at_limit), Ok(good_identity()));
    assert_eq!(read(&format!("{at_limit} ")), Err(AnswerError::TooLarge));
}

#[test]
fn answer_errors_are_502() {
    let error = AnswerError::WrongRoot;
    assert_eq!((error.status(), error.code()), (502, "invalid_sts_answer"));
}

const ROOT_START: &str =
    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">";

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_reader(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let _ = read_caller_identity(Some("text/xml"), &body);
        let _ = error_code(&body);
        let _ = classify_rejection(400, &body);
    }

    #[test]
    fn arbitrary_markup_never_panics_the_reader(
        pieces in proptest::collection::vec(
            prop_oneof![
                Just(ROOT_START),
                Just("</GetCallerIdentityResponse>"),
                Just("<GetCallerIdentityResult>"),
                Just("</GetCallerIdentityResult>"),
                Just("<ResponseMetadata>"),
                Just("</ResponseMetadata>"),
                Just("<ResponseMetadata/>"),
                Just("<Arn>"),
                Just("</Arn>"),
                Just("<UserId>"),
                Just("</UserId>"),
                Just("<Account>"),
                Just("</Account>"),
                Just("<Error><Code>Throttling</Code></Error>"),
                Just("arn:aws:sts::123456789012:assumed-role/r/s"),
                Just("&amp;"),
                Just("&#65;"),
                Just("<!-- c -->"),
                Just("<?xml version=\"1.0\"?>"),
                Just(" "),
            ],
            0..24,
        ),
        content_type in "(text/xml|TEXT/XML; charset=utf-8|[ -~]{0,20})",
    ) {
        let body = pieces.concat();
        if let Ok(identity) = read_caller_identity(Some(&content_type), body.as_bytes()) {
            prop_assert!(!identity.arn.trim().is_empty());
            prop_assert!(!identity.user_id.trim().is_empty());
            prop_assert!(!identity.account.trim().is_empty());
            prop_assert!(body.contains("<GetCallerIdentityResult>"));
        }
        let _ = error_code(body.as_bytes());
    }
}
