//! Reads STS's answer to a forwarded `GetCallerIdentity` call (security rules 12 and 13).
//!
//! A 200 answer is read strictly, element by element: the root must be
//! `GetCallerIdentityResponse` in the STS namespace, holding exactly one
//! `GetCallerIdentityResult` with exactly one `Arn`, `UserId` and `Account`. Vault's AWS login
//! was bypassed (CVE-2020-16250) because a lenient reader took a `GetCallerIdentityResult`
//! that an attacker had reflected inside another action's answer for the real thing; here
//! anything but the exact shape is an [`AnswerError`], which the caller answers with 502.
//!
//! A non-200 answer is sorted by [`classify_rejection`] into the status the caller gets.
//! STS's own text, such as the error code from [`error_code`], is for the log only.
//!
//! Rule 14's cross-check (the ARN's account against `Account`, its session against
//! `UserId`) needs the ARN taken apart, so it lives with the mapping in
//! [`crate::identity`]; this module only vouches that the document had the right shape.

use std::borrow::Cow;

use quick_xml::NsReader;
use quick_xml::events::{BytesDecl, BytesRef, BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};

mod rejection;
#[cfg(test)]
pub(crate) mod tests;

pub use rejection::{StsRejection, classify_rejection, error_code};

/// The largest answer body read; a real `GetCallerIdentity` answer is under 1 KiB.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// The namespace every element of an STS answer is in.
const STS_NAMESPACE: &[u8] = b"https://sts.amazonaws.com/doc/2011-06-15/";

/// What STS vouched for. Fields exactly as STS returned them; see
/// [`crate::identity::ServiceDirectory::map`] for what they are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The caller's ARN; for an assumed role
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub arn: String,
    /// The principal's unique id; for an assumed role `<role unique id>:<session name>`.
    pub user_id: String,
    /// The AWS account id.
    pub account: String,
}

/// Why a 200 answer from STS is not a well-formed `GetCallerIdentity` result. Every variant
/// means 502 to the caller; the text is for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The `Content-Type` is missing or not `text/xml` (with an optional UTF-8 charset).
    #[error("the answer's content type is not text/xml")]
    ContentType,
    /// The body is longer than [`MAX_ANSWER_BYTES`].
    #[error("the answer is larger than 16 KiB")]
    TooLarge,
    /// The body is not valid UTF-8.
    #[error("the answer is not valid UTF-8")]
    NotUtf8,
    /// The XML reader found the document ill-formed; `reason` is its description.
    #[error("the answer is not well-formed XML ({reason})")]
    IllFormed {
        /// The XML reader's description of the fault.
        reason: String,
    },
    /// The XML declaration is not for UTF-8 XML 1.0.
    #[error("the answer's XML declaration is not for UTF-8 XML 1.0")]
    Declaration,
    /// The document holds markup that a `GetCallerIdentity` answer never has.
    #[error("the answer holds {0}, which a GetCallerIdentity answer never has")]
    Forbidden(Construct),
    /// The body holds no element at all.
    #[error("the answer has no root element")]
    NoRootElement,
    /// The document ends before its root element closes.
    #[error("the answer ends before its root element closes")]
    Truncated,
    /// The document is an STS error document (`ErrorResponse`), not a result.
    #[error("the answer is an STS error document")]
    ErrorDocument,
    /// The root element is not `GetCallerIdentityResponse`.
    #[error("the answer's root element is not GetCallerIdentityResponse")]
    WrongRoot,
    /// An element is outside the STS namespace (or in none).
    #[error("the answer has an element outside the STS namespace")]
    ForeignNamespace,
    /// An element carries an attribute other than a namespace declaration.
    #[error("the answer has an attribute other than a namespace declaration")]
    UnexpectedAttribute,
    /// An element sits where the `GetCallerIdentity` shape has none; `parent` names the
    /// element it was found in.
    #[error("the answer has an element that does not belong in {parent}")]
    UnexpectedElement {
        /// The element the stray element was found in.
        parent: &'static str,
    },
    /// Text other than whitespace sits outside the elements that carry values.
    #[error("the answer has text outside the elements that carry values")]
    StrayText,
    /// Something other than whitespace follows the root element.
    #[error("the answer has content after its root element")]
    ContentAfterRoot,
    /// An element that must appear once appears again.
    #[error("the answer has more than one {0}")]
    Duplicate(&'static str),
    /// An element that must appear once is missing.
    #[error("the answer has no {0}")]
    Missing(&'static str),
    /// A value element (`Arn`, `UserId`, `Account`) is empty or only whitespace.
    #[error("the answer's {0} is empty")]
    Empty(&'static str),
}

impl AnswerError {
    /// The HTTP status the caller gets: always 502, STS answered something unusable.
    pub fn status(&self) -> u16 {
        502
    }

    /// The stable error code the caller gets.
    pub fn code(&self) -> &'static str {
        "invalid_sts_answer"
    }
}

/// Markup that is legal XML but never part of a `GetCallerIdentity` answer. Refusing it keeps
/// the reader small: no entity expansion, no hidden text, nothing to be confused by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Construct {
    /// `<!DOCTYPE ...>`, which could declare entities.
    DocumentType,
    /// `<!-- ... -->`.
    Comment,
    /// `<![CDATA[ ... ]]>`.
    CData,
    /// `<?target ...?>`.
    ProcessingInstruction,
    /// An XML declaration anywhere but at the very start.
    MisplacedDeclaration,
    /// `&#...;`.
    CharacterReference,
    /// `&name;` for a name other than the five predefined entities.
    EntityReference,
}

impl std::fmt::Display for Construct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Construct::DocumentType => "a document type declaration",
            Construct::Comment => "a comment",
            Construct::CData => "a CDATA section",
            Construct::ProcessingInstruction => "a processing instruction",
            Construct::MisplacedDeclaration => "a misplaced XML declaration",
            Construct::CharacterReference => "a character reference",
            Construct::EntityReference => "an entity reference",
        })
    }
}

/// Reads the body of a 200 answer from STS (rule 13). The caller has already checked the
/// status.
pub fn read_caller_identity(
    unverified_content_type: Option<&str>,
    unverified_body: &[u8],
) -> Result<CallerIdentity, AnswerError> {
    if !unverified_content_type.is_some_and(is_text_xml) {
        return Err(AnswerError::ContentType);
    }
    if unverified_body.len() > MAX_ANSWER_BYTES {
        return Err(AnswerError::TooLarge);
    }
    let unverified_xml = std::str::from_utf8(unverified_body).map_err(|_| AnswerError::NotUtf8)?;

    AnswerReader::new(unverified_xml).read()
}

/// Whether a `Content-Type` value is `text/xml`, the media type compared case-insensitively.
/// A `charset` parameter, when given, must name UTF-8: the body is read as nothing else.
fn is_text_xml(unverified_content_type: &str) -> bool {
    let mut parts = unverified_content_type.split(';');
    let media_type = parts.next().unwrap_or_default();
    if !trim_http_whitespace(media_type).eq_ignore_ascii_case("text/xml") {
        return false;
    }

    parts.all(|parameter| {
        let Some((name, value)) = parameter.split_once('=') else {
            return false;
        };
        if !trim_http_whitespace(name).eq_ignore_ascii_case("charset") {
            return true;
        }
        let value = value.trim_matches([' ', '\t']);
        let value = value
            .strip_prefix('"')
            .and_then(|quoted| quoted.strip_suffix('"'))
            .unwrap_or(value);
        value.eq_ignore_ascii_case("utf-8")
    })
}

fn trim_http_whitespace(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
}

fn is_xml_whitespace(text: &str) -> bool {
    text.bytes()
        .all(|byte| matches!(byte, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The elements of a `GetCallerIdentity` answer, plus the error document's root so that it
/// can be named in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    Response,
    Result,
    Metadata,
    Arn,
    UserId,
    Account,
    Other,
}

impl Element {
    fn from_local_name(name: &[u8]) -> Self {
        match name {
            b"GetCallerIdentityResponse" => Element::Response,
            b"GetCallerIdentityResult" => Element::Result,
            b"ResponseMetadata" => Element::Metadata,
            b"Arn" => Element::Arn,
            b"UserId" => Element::UserId,
            b"Account" => Element::Account,
            _ => Element::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Element::Response => "GetCallerIdentityResponse",
            Element::Result => "GetCallerIdentityResult",
            Element::Metadata => "ResponseMetadata",
            Element::Arn => "Arn",
            Element::UserId => "UserId",
            Element::Account => "Account",
            Element::Other => "an unknown element",
        }
    }
}

/// One step through the document, once the forbidden constructs are refused.
enum Markup<'i> {
    /// An element opens; `self_closing` for `<Name/>`, which has no `Close`.
    Open {
        element: Element,
        self_closing: bool,
    },
    /// The innermost open element closes.
    Close,
    /// Character data, with the five predefined entities already replaced.
    Text(Cow<'i, str>),
    /// The end of the document.
    End,
}

/// A pull reader over the document that knows the one shape it accepts.
struct AnswerReader<'i> {
    xml: NsReader<&'i [u8]>,
    at_start: bool,
}

impl<'i> AnswerReader<'i> {
    fn new(unverified_xml: &'i str) -> Self {
        // The defaults already refuse what matters: mismatched and unmatched end tags, a
        // lone `&`. Text is not trimmed, so values stay exactly as STS sent them.
        Self {
            xml: NsReader::from_str(unverified_xml),
            at_start: true,
        }
    }

    fn read(mut self) -> Result<CallerIdentity, AnswerError> {
        self.read_root_start()?;
        let identity = self.read_response()?;
        self.read_after_root()?;
        Ok(identity)
    }

    /// Nothing but whitespace before the root (after an optional declaration, which `next`
    /// handles), and the root is `GetCallerIdentityResponse`.
    fn read_root_start(&mut self) -> Result<(), AnswerError> {
        loop {
            match self.next()? {
                Markup::Text(text) if is_xml_whitespace(&text) => {}
                Markup::Text(_) => return Err(AnswerError::StrayText),
                Markup::Open {
                    element: Element::Response,
                    self_closing: false,
                } => return Ok(()),
                Markup::Open {
                    element: Element::Response,
                    self_closing: true,
                } => return Err(AnswerError::Missing(Element::Result.name())),
                Markup::Open { .. } | Markup::Close => return Err(AnswerError::WrongRoot),
                Markup::End => return Err(AnswerError::NoRootElement),
            }
        }
    }

    /// The root's children: exactly one result, at most one `ResponseMetadata`.
    fn read_response(&mut self) -> Result<CallerIdentity, AnswerError> {
        let mut identity = None;
        let mut seen_metadata = false;

        loop {
            match self.next()? {
                Markup::Text(text) if is_xml_whitespace(&text) => {}
                Markup::Text(_) => return Err(AnswerError::StrayText),
                Markup::Open {
                    element: Element::Result,
                    self_closing,
                } => {
                    if identity.is_some() {
                        return Err(AnswerError::Duplicate(Element::Result.name()));
                    }
                    if self_closing {
                        return Err(AnswerError::Missing(Element::Arn.name()));
                    }
                    identity = Some(self.read_result()?);
                }
                Markup::Open {
                    element: Element::Metadata,
                    self_closing,
                } => {
                    if seen_metadata {
                        return Err(AnswerError::Duplicate(Element::Metadata.name()));
                    }
                    seen_metadata = true;
                    if !self_closing {
                        self.skip_element()?;
                    }
                }
                Markup::Open { .. } => {
                    return Err(AnswerError::UnexpectedElement {
                        parent: Element::Response.name(),
                    });
                }
                Markup::Close => break,
                Markup::End => return Err(AnswerError::Truncated),
            }
        }

        identity.ok_or(AnswerError::Missing(Element::Result.name()))
    }

    /// The result's children: exactly one each of `Arn`, `UserId` and `Account`, in any order.
    fn read_result(&mut self) -> Result<CallerIdentity, AnswerError> {
        let mut arn = None;
        let mut user_id = None;
        let mut account = None;

        loop {
            match self.next()? {
                Markup::Text(text) if is_xml_whitespace(&text) => {}
                Markup::Text(_) => return Err(AnswerError::StrayText),
                Markup::Open {
                    element,
                    self_closing,
                } => {
                    let slot = match element {
                        Element::Arn => &mut arn,
                        Element::UserId => &mut user_id,
                        Element::Account => &mut account,
                        _ => {
                            return Err(AnswerError::UnexpectedElement {
                                parent: Element::Result.name(),
                            });
                        }
                    };
                    if slot.is_some() {
                        return Err(AnswerError::Duplicate(element.name()));
                    }
                    if self_closing {
                        return Err(AnswerError::Empty(element.name()));
                    }
                    *slot = Some(self.read_value(element)?);
                }
                Markup::Close => break,
                Markup::End => return Err(AnswerError::Truncated),
            }
        }

        Ok(CallerIdentity {
            arn: arn.ok_or(AnswerError::Missing(Element::Arn.name()))?,
            user_id: user_id.ok_or(AnswerError::Missing(Element::UserId.name()))?,
            account: account.ok_or(AnswerError::Missing(Element::Account.name()))?,
        })
    }

    /// A value element's text: no child elements, not empty. The text is kept exactly as
    /// sent; whitespace around it is not trimmed but makes the value fail the later checks.
    fn read_value(&mut self, element: Element) -> Result<String, AnswerError> {
        let mut value = String::new();

        loop {
            match self.next()? {
                Markup::Text(text) => value.push_str(&text),
                Markup::Open { .. } => {
                    return Err(AnswerError::UnexpectedElement {
                        parent: element.name(),
                    });
                }
                Markup::Close => break,
                Markup::End => return Err(AnswerError::Truncated),
            }
        }

        if is_xml_whitespace(&value) {
            return Err(AnswerError::Empty(element.name()));
        }
        Ok(value)
    }

    /// Skips an element's content (`ResponseMetadata`), which must still be well-formed and
    /// free of forbidden constructs; `next` sees to that.
    fn skip_element(&mut self) -> Result<(), AnswerError> {
        let mut depth = 1_usize;

        loop {
            match self.next()? {
                Markup::Text(_)
                | Markup::Open {
                    self_closing: true, ..
                } => {}
                Markup::Open {
                    self_closing: false,
                    ..
                } => depth += 1,
                Markup::Close => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Markup::End => return Err(AnswerError::Truncated),
            }
        }
    }

    /// Nothing but whitespace after the root: a second root or a trailing element could
    /// otherwise carry a second, attacker-chosen result.
    fn read_after_root(&mut self) -> Result<(), AnswerError> {
        loop {
            match self.next()? {
                Markup::Text(text) if is_xml_whitespace(&text) => {}
                Markup::End => return Ok(()),
                Markup::Text(_) | Markup::Open { .. } | Markup::Close => {
                    return Err(AnswerError::ContentAfterRoot);
                }
            }
        }
    }

    /// The next piece of markup, refusing every construct a `GetCallerIdentity` answer never
    /// has. An XML declaration is allowed once, as the very first thing in the document.
    fn next(&mut self) -> Result<Markup<'i>, AnswerError> {
        loop {
            let at_start = std::mem::replace(&mut self.at_start, false);
            let (in_sts_namespace, event) = match self.xml.read_resolved_event() {
                Ok((namespace, event)) => (is_sts_namespace(&namespace), event),
                Err(error) => {
                    return Err(AnswerError::IllFormed {
                        reason: error.to_string(),
                    });
                }
            };

            return match event {
                Event::Start(tag) => open(&tag, in_sts_namespace, false),
                Event::Empty(tag) => open(&tag, in_sts_namespace, true),
                Event::End(_) => Ok(Markup::Close),
                Event::Text(text) => match text.decode() {
                    Ok(text) => Ok(Markup::Text(text)),
                    Err(error) => Err(AnswerError::IllFormed {
                        reason: error.to_string(),
                    }),
                },
                Event::GeneralRef(reference) => {
                    Ok(Markup::Text(Cow::Borrowed(predefined_entity(&reference)?)))
                }
                Event::Decl(declaration) if at_start => {
                    check_declaration(&declaration)?;
                    continue;
                }
                Event::Decl(_) => Err(AnswerError::Forbidden(Construct::MisplacedDeclaration)),
                Event::DocType(_) => Err(AnswerError::Forbidden(Construct::DocumentType)),
                Event::Comment(_) => Err(AnswerError::Forbidden(Construct::Comment)),
                Event::CData(_) => Err(AnswerError::Forbidden(Construct::CData)),
                Event::PI(_) => Err(AnswerError::Forbidden(Construct::ProcessingInstruction)),
                Event::Eof => Ok(Markup::End),
            };
        }
    }
}

fn is_sts_namespace(namespace: &ResolveResult<'_>) -> bool {
    matches!(namespace, ResolveResult::Bound(Namespace(name)) if *name == STS_NAMESPACE)
}

/// Names an opening tag, after checking its attributes and namespace. An STS error
/// document is named as such wherever it appears, so the log says what STS sent.
fn open<'i>(
    tag: &BytesStart<'_>,
    in_sts_namespace: bool,
    self_closing: bool,
) -> Result<Markup<'i>, AnswerError> {
    check_attributes(tag)?;
    let local_name = tag.local_name();
    if local_name.as_ref() == b"ErrorResponse" {
        return Err(AnswerError::ErrorDocument);
    }
    if !in_sts_namespace {
        return Err(AnswerError::ForeignNamespace);
    }
    Ok(Markup::Open {
        element: Element::from_local_name(local_name.as_ref()),
        self_closing,
    })
}

/// Only namespace declarations are allowed; the attribute reader also refuses duplicates
/// and malformed attributes, which the namespace resolver alone would pass over.
fn check_attributes(tag: &BytesStart<'_>) -> Result<(), AnswerError> {
    for attribute in tag.attributes() {
        let attribute = attribute.map_err(|error| AnswerError::IllFormed {
            reason: error.to_string(),
        })?;
        let key = attribute.key.as_ref();
        if key != b"xmlns" && !key.starts_with(b"xmlns:") {
            return Err(AnswerError::UnexpectedAttribute);
        }
    }
    Ok(())
}

/// The text of one of XML's five predefined entities; any other reference is refused.
fn predefined_entity(reference: &BytesRef<'_>) -> Result<&'static str, AnswerError> {
    if reference.is_char_ref() {
        return Err(AnswerError::Forbidden(Construct::CharacterReference));
    }
    match &**reference {
        b"lt" => Ok("<"),
        b"gt" => Ok(">"),
        b"amp" => Ok("&"),
        b"apos" => Ok("'"),
        b"quot" => Ok("\""),
        _ => Err(AnswerError::Forbidden(Construct::EntityReference)),
    }
}

fn check_declaration(declaration: &BytesDecl<'_>) -> Result<(), AnswerError> {
    let version_is_1_0 = declaration
        .version()
        .is_ok_and(|version| version.as_ref() == b"1.0");
    let encoding_is_utf8 = match declaration.encoding() {
        None => true,
        Some(Ok(encoding)) => encoding.eq_ignore_ascii_case(b"utf-8"),
        Some(Err(_)) => false,
    };
    if version_is_1_0 && encoding_is_utf8 {
        Ok(())
    } else {
        Err(AnswerError::Declaration)
    }
}
