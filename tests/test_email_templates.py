"""The practice's own words in client emails: templates per kind, their fields, their safety;
the practice's reply-to address; the client id on every email and on its stored form."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from selfsched import EmailKind, EmailMessage, Practice
from selfsched.adapters import codec
from selfsched.emails import email_context, render
from selfsched.errors import InvalidHeader, InvalidInput, InvalidTemplate, WrongType
from selfsched.events import redacted
from selfsched.model import Appointment, AppointmentStatus, Client, Clinician
from selfsched.wording import FIELDS, EmailContext, EmailTemplate, default_template
from service_fixtures import AS_ALICE, AS_RIVERA, SLOT, build, snapshot, use_settings

START = datetime(2026, 4, 14, 18, 0, tzinfo=UTC)  # 14:00 EDT, 19:00 BST
APPOINTMENT = Appointment(
    id="appointment-2",
    client_id="alice",
    clinician_id="c1",
    start=START,
    end=START + timedelta(minutes=50),
    status="booked",
    service_code="90834",
    code_modifier="95",
    location="Telehealth",
    version=2,
)
ALICE = Client(id="alice", name="Alice Adams", email="alice@example.org", zone="Europe/London")
RIVERA = Clinician(id="c1", name="Dr. Ana Rivera", zone="America/New_York", service_code="90834")
PRACTICE = Practice(name="Riverside Counselling", zone="America/New_York", phone="555-0100")

REJECTION = EmailTemplate(
    subject="About your request for $date",
    text=(
        "Dear $client_name,\n\n$clinician_name cannot see you at $time $time_zone on $date.\n"
        "Please ring us on $practice_phone.\n\n$practice_name\n"
    ),
)
"""A practice's own rejection email, plain text only."""


def email(
    kind: EmailKind = EmailKind.REJECTED,
    *,
    practice: Practice = PRACTICE,
    client: Client = ALICE,
    clinician: Clinician = RIVERA,
    appointment: Appointment = APPOINTMENT,
) -> EmailMessage:
    """Render with the defaults above."""
    return render(kind, appointment, client=client, clinician=clinician, practice=practice)


def with_templates(**templates: EmailTemplate) -> Practice:
    """:data:`PRACTICE` with *templates* (by kind value) as its own wording."""
    return attrs.evolve(PRACTICE, email_templates=templates)


# -- replacing the wording, per kind --------------------------------------------------------------


def test_a_practice_replaces_the_rejection_email_with_its_own_words() -> None:
    """The practice's template for REJECTED words the rejection; every field is filled in."""
    message = email(practice=with_templates(rejected=REJECTION))

    assert ("About your request for Tuesday, April 14, 2026", "") == (message.subject, message.html)
    assert (
        "Dear Alice Adams,\n\nDr. Ana Rivera cannot see you at 7:00 PM BST (Europe/London) on "
        "Tuesday, April 14, 2026.\nPlease ring us on 555-0100.\n\nRiverside Counselling\n"
    ) == message.text


@pytest.mark.parametrize("kind", list(EmailKind))
def test_each_kind_can_be_replaced_and_the_others_keep_the_articles_words(
    kind: EmailKind,
) -> None:
    """A template for one kind changes that kind's email only."""
    own = EmailTemplate(subject=f"Own {kind}", text=f"Own words for {kind}.\n")
    practice = attrs.evolve(PRACTICE, email_templates={kind: own})

    for other in EmailKind:
        expected = (f"Own {kind}", f"Own words for {kind}.\n") if other is kind else None
        message = email(other, practice=practice)
        if expected is None:
            assert email(other) == message
        else:
            assert expected == (message.subject, message.text)


@pytest.mark.parametrize("kind", list(EmailKind))
@pytest.mark.parametrize("named", [True, False], ids=["named", "unnamed"])
@pytest.mark.parametrize("phone", ["555-0100", None], ids=["phone", "no-phone"])
def test_the_default_is_the_articles_wording_as_a_template(
    kind: EmailKind, named: bool, phone: str | None
) -> None:
    """Without templates of its own, a practice sends exactly what the article's template,
    for what it has on file, yields: the default is an ordinary template."""
    practice = attrs.evolve(PRACTICE, phone=phone)
    client = ALICE if named else attrs.evolve(ALICE, name="")
    article = default_template(kind, client_name=named, practice_phone=phone is not None)
    own = attrs.evolve(practice, email_templates={kind: article})

    assert email(kind, practice=practice, client=client) == email(kind, practice=own, client=client)


def test_the_articles_rejection_names_the_phone_only_when_there_is_one() -> None:
    """ "call the clinic" says which number when the practice has one."""
    with_phone = default_template(EmailKind.REJECTED).text.splitlines()[2]
    without = default_template(EmailKind.REJECTED, practice_phone=False).text.splitlines()[2]

    assert (
        "Your appointment request was not approved. Please call your clinician or the clinic at "
        "$practice_phone for assistance."
    ) == with_phone
    assert (
        "Your appointment request was not approved. Please call your clinician or the clinic for "
        "assistance."
    ) == without


def test_templates_may_be_keyed_by_the_kinds_value() -> None:
    """``{"rejected": ...}`` is ``{EmailKind.REJECTED: ...}``; the mapping is read-only."""
    practice = with_templates(rejected=REJECTION)

    assert {EmailKind.REJECTED: REJECTION} == dict(practice.email_templates)
    with pytest.raises(TypeError):
        practice.email_templates[EmailKind.APPROVED] = REJECTION  # type: ignore[index]


def test_a_template_for_an_unknown_kind_is_refused() -> None:
    """A key that is no EmailKind is refused, naming the kinds there are."""
    with pytest.raises(InvalidInput) as caught:
        Practice(email_templates={"reminder": REJECTION})

    assert (
        "email_templates has a key 'reminder', which is not an EmailKind; the kinds are "
        "approved, rejected, expired, confirmed, cancelled."
    ) == str(caught.value)


@pytest.mark.parametrize("value", [[REJECTION], {EmailKind.REJECTED: "Dear $client_name"}])
def test_templates_of_the_wrong_type_are_refused(value: object) -> None:
    """Not a mapping, or a value that is no EmailTemplate: WrongType."""
    with pytest.raises(WrongType):
        Practice(email_templates=value)


def test_new_wording_takes_effect_when_the_settings_change() -> None:
    """Practices change wording on their settings screen: the next email uses it."""
    world = build()
    pending = world.scheduler.book(AS_ALICE, "c1", SLOT)
    use_settings(
        world.scheduler,
        attrs.evolve(world.scheduler.practice, email_templates={"rejected": REJECTION}),
    )

    world.scheduler.reject(AS_RIVERA, pending.id)

    [sent] = world.mailer.sent
    assert "About your request for Monday, April 13, 2026" == sent.subject


# -- plain text, HTML ------------------------------------------------------------------------------


def test_the_html_alternative_escapes_every_value_and_the_text_does_not() -> None:
    """Values are HTML-escaped in the HTML alternative; the template's own markup is kept; the
    subject and the text have the values as typed."""
    template = EmailTemplate(
        subject="For $client_name at $location",
        text="Hello $client_name, see you at $location.\n",
        html="<p>Hello <b>$client_name</b>, see you at $location.</p>",
    )
    client = attrs.evolve(ALICE, name='<i>Al</i> & "co"')
    place = attrs.evolve(APPOINTMENT, location="Suite <3>")

    message = email(practice=with_templates(rejected=template), client=client, appointment=place)

    assert (
        'For <i>Al</i> & "co" at Suite <3>',
        'Hello <i>Al</i> & "co", see you at Suite <3>.\n',
        (
            "<p>Hello <b>&lt;i&gt;Al&lt;/i&gt; &amp; &quot;co&quot;</b>, see you at "
            "Suite &lt;3&gt;.</p>"
        ),
    ) == (message.subject, message.text, message.html)


def test_a_template_without_html_sends_plain_text_only() -> None:
    """No HTML template: the email's ``html`` is empty, and it goes out as plain text."""
    assert "" == email(practice=with_templates(rejected=REJECTION)).html


def test_a_double_dollar_is_a_dollar_sign() -> None:
    """``$$`` writes a dollar sign; no field is involved."""
    template = EmailTemplate(subject="Fees", text="A missed session costs $$50.\n")

    assert "A missed session costs $50.\n" == email(practice=with_templates(rejected=template)).text


# -- what a template may use ----------------------------------------------------------------------


def test_the_fields_a_template_may_use() -> None:
    """Exactly these, and the context has exactly these fields."""
    expected = (
        "client_name",
        "date",
        "time",
        "time_zone",
        "clinician_name",
        "location",
        "practice_name",
        "practice_phone",
    )

    assert (expected, expected) == (FIELDS, tuple(a.name for a in attrs.fields(EmailContext)))


def test_the_context_of_an_email() -> None:
    """Built from the appointment, the client, the clinician and the practice, in the client's
    zone; no service code, no modifier, nothing of other clients or other calendar entries."""
    context = email_context(APPOINTMENT, client=ALICE, clinician=RIVERA, practice=PRACTICE)

    assert (
        EmailContext(
            client_name="Alice Adams",
            date="Tuesday, April 14, 2026",
            time="7:00 PM",
            time_zone="BST (Europe/London)",
            clinician_name="Dr. Ana Rivera",
            location="Telehealth",
            practice_name="Riverside Counselling",
            practice_phone="555-0100",
        )
        == context
    )


def test_missing_values_in_the_context() -> None:
    """No client name, no phone: empty; no clinician name: "your clinician"; no location: "No
    Location Set"."""
    context = email_context(
        attrs.evolve(APPOINTMENT, location=None),
        client=attrs.evolve(ALICE, name=""),
        clinician=attrs.evolve(RIVERA, name=""),
        practice=attrs.evolve(PRACTICE, phone=None),
    )

    assert ("", "your clinician", "No Location Set", "") == (
        context.client_name,
        context.clinician_name,
        context.location,
        context.practice_phone,
    )


@pytest.mark.parametrize("part", ["subject", "text", "html"])
def test_an_unknown_placeholder_is_refused_naming_it_and_the_fields(part: str) -> None:
    """A placeholder that is no field (here one for something the client must not see) is
    refused when the template is built, in any part."""
    parts = {"subject": "Subject", "text": "Text", part: "Your code: $service_code"}

    with pytest.raises(InvalidTemplate) as caught:
        EmailTemplate(**parts)

    assert (
        f"The email template's {part} uses $service_code, which is not a template field; the "
        "fields are $client_name, $date, $time, $time_zone, $clinician_name, $location, "
        "$practice_name and $practice_phone."
    ) == str(caught.value)
    assert (part, ("service_code",), FIELDS) == (
        caught.value.part,
        caught.value.unknown,
        caught.value.allowed,
    )
    assert isinstance(caught.value, InvalidInput)


def test_every_unknown_placeholder_is_named() -> None:
    """Two unknown names, braced or not: both named, in order."""
    with pytest.raises(InvalidTemplate) as caught:
        EmailTemplate(subject="s", text="$code_modifier for ${other_clients}, $client_name")

    assert ("code_modifier", "other_clients") == caught.value.unknown
    assert str(caught.value).startswith(
        "The email template's text uses $code_modifier and $other_clients, which are not "
        "template fields;"
    )


@pytest.mark.parametrize(
    "text",
    [
        "${client_name.__class__}",  # attribute access
        "${client_name!r}",  # a conversion
        "${client_name:>99}",  # a format specification
        "$5 fee",  # a dollar sign not doubled
        "costs $",
    ],
)
def test_a_dollar_that_starts_no_field_is_refused(text: str) -> None:
    """string.Template syntax only: anything else after a ``$`` is refused, not evaluated."""
    with pytest.raises(InvalidTemplate) as caught:
        EmailTemplate(subject="s", text=text)

    assert (
        "The email template's text has a $ that starts no field name; write $$ for a dollar "
        "sign, or one of the fields: $client_name, $date, $time, $time_zone, $clinician_name, "
        "$location, $practice_name and $practice_phone."
    ) == str(caught.value)
    assert () == caught.value.unknown


def test_format_syntax_is_plain_text() -> None:
    """Braces without a ``$`` are text: ``{client_name.__class__}`` is written as it stands."""
    template = EmailTemplate(subject="s", text="{client_name.__class__} {0}")

    assert "{client_name.__class__} {0}" == email(practice=with_templates(rejected=template)).text


@pytest.mark.parametrize("part", ["subject", "text", "html"])
def test_a_template_part_must_be_a_string(part: str) -> None:
    """Bytes, numbers: WrongType naming the part."""
    parts: dict[str, object] = {"subject": "s", "text": "t", part: b"$date"}

    with pytest.raises(WrongType, match=f"the email template's {part} must be a string"):
        EmailTemplate(**parts)  # type: ignore[arg-type]


# -- header safety --------------------------------------------------------------------------------


def test_a_subject_template_with_a_line_break_is_refused_when_built() -> None:
    """A subject template that is no header is refused on the settings screen already."""
    with pytest.raises(InvalidHeader) as caught:
        EmailTemplate(subject="Hello\r\nBcc: all@example.org", text="t")

    assert (
        "The email template's subject contains a control character (U+000D) at position 5; "
        "remove it before sending email."
    ) == str(caught.value)


def test_a_subject_that_fills_in_a_line_break_is_refused_when_rendered() -> None:
    """A value that breaks the subject (a clinician's name with a line break) is caught when the
    email is rendered; the text and HTML may hold it."""
    template = EmailTemplate(subject="Your visit with $clinician_name", text="$clinician_name\n")
    odd = attrs.evolve(RIVERA, name="Dr. Rivera\nBcc: all@example.org")

    with pytest.raises(InvalidHeader, match="The subject contains a control character"):
        email(practice=with_templates(rejected=template), clinician=odd)
    assert "Clinician: Dr. Rivera\nBcc: all@example.org\n" in email(clinician=odd).text


def test_an_unsafe_subject_refuses_the_change_through_the_scheduler() -> None:
    """The scheduler renders inside the unit of work: an email whose subject is no header (the
    practice's name, typed with a line break, in the subject) refuses the rejection itself.
    Nothing is written but the audit's refusal; nothing is sent."""
    world = build()
    pending = world.scheduler.book(AS_ALICE, "c1", SLOT)
    template = EmailTemplate(subject="$practice_name: not approved", text="Sorry.\n")
    use_settings(
        world.scheduler,
        attrs.evolve(
            world.scheduler.practice,
            name="Riverside\u2028Bcc: all@example.org",
            email_templates={"rejected": template},
        ),
    )
    appointments, outbox, audit = snapshot(world.store)

    with pytest.raises(InvalidHeader) as caught:
        world.scheduler.reject(AS_RIVERA, pending.id)

    assert (
        "The subject contains a control character (U+2028) at position 9; remove it before "
        "sending email."
    ) == str(caught.value)
    after_appointments, after_outbox, after_audit = snapshot(world.store)
    assert (appointments, outbox, audit) == (after_appointments, after_outbox, after_audit[:-1])
    assert ("refused", "InvalidHeader") == (after_audit[-1].outcome, after_audit[-1].error)
    assert [AppointmentStatus.PENDING] == [a.status for a in after_appointments]
    assert [] == world.mailer.sent


# -- the practice's reply-to address --------------------------------------------------------------


def test_the_practices_reply_to_address_is_on_its_emails() -> None:
    """``Practice.reply_to`` is the email's ``reply_to``; without one, none."""
    practice = attrs.evolve(PRACTICE, reply_to="Front desk <desk@riverside.example>")

    assert ("Front desk <desk@riverside.example>", None) == (
        email(practice=practice).reply_to,
        email().reply_to,
    )


@pytest.mark.parametrize(
    "value", ["desk@riverside.example\r\nBcc: all@example.org", "desk@riverside.example\u2028"]
)
def test_a_reply_to_address_that_breaks_a_header_is_refused(value: str) -> None:
    """Checked as a header when the settings are made."""
    with pytest.raises(InvalidHeader, match="The reply_to contains a control character"):
        Practice(reply_to=value)


@pytest.mark.parametrize("value", ["front desk", "@riverside.example", "desk@", ""])
def test_a_reply_to_that_is_no_address_is_refused(value: str) -> None:
    """It must read as an email address."""
    with pytest.raises(InvalidInput) as caught:
        Practice(reply_to=value)

    assert (
        f"reply_to={value!r} is not an email address; give one such as "
        "'front-desk@clinic.example' or 'Riverside Counselling <front-desk@clinic.example>'."
    ) == str(caught.value)


# -- the client id --------------------------------------------------------------------------------


def test_an_email_carries_the_client_id() -> None:
    """Not only the address: the client's id, as the appointment names them."""
    assert ("alice", "alice@example.org") == (email().client_id, email().to)


def test_a_scheduled_email_carries_the_client_id() -> None:
    """Through the scheduler, into the outbox and out to the mailer."""
    world = build()
    pending = world.scheduler.book(AS_ALICE, "c1", SLOT)

    world.scheduler.reject(AS_RIVERA, pending.id)

    assert ["alice"] == [m.client_id for m in world.mailer.sent]


def test_a_redacted_email_keeps_the_client_id() -> None:
    """The audit needs whom it was for; the address, wording and reply-to go."""
    message = email(practice=attrs.evolve(PRACTICE, reply_to="desk@riverside.example"))

    kept = redacted(message)

    assert isinstance(kept, EmailMessage)
    assert ("alice", "", "", "", "", None) == (
        kept.client_id,
        kept.to,
        kept.subject,
        kept.text,
        kept.html,
        kept.reply_to,
    )


def test_the_stored_form_carries_the_client_id_and_reply_to() -> None:
    """Encoded and decoded again, the email is the same."""
    message = email(practice=attrs.evolve(PRACTICE, reply_to="desk@riverside.example"))

    data = codec.payload_to_dict(message)

    assert ("alice", "desk@riverside.example") == (data["client_id"], data["reply_to"])
    assert message == codec.payload_from_dict(data)


def test_an_email_stored_before_client_ids_decodes_with_none_recorded() -> None:
    """A payload without ``client_id`` and ``reply_to`` (written by an earlier selfsched)
    decodes with an empty client id (not recorded) and no reply-to address."""
    old = {
        key: value
        for key, value in codec.payload_to_dict(email()).items()
        if key not in {"client_id", "reply_to"}
    }

    decoded = codec.payload_from_dict(old)

    assert isinstance(decoded, EmailMessage)
    assert ("", None) == (decoded.client_id, decoded.reply_to)
    assert attrs.evolve(email(), client_id="") == decoded


# -- properties -----------------------------------------------------------------------------------


def unsafe(value: str) -> bool:
    """Whether *value* would break a header: a control character, or a line break of any kind
    (as ``str.splitlines`` sees them)."""
    return any(unicodedata.category(ch) == "Cc" or len(f"a{ch}b".splitlines()) > 1 for ch in value)


MARK = "\ue000"
"""A character nothing but the service code and modifier below holds."""

_ANY_TEXT = st.text(  # any text selfsched keeps: NUL is refused (tests/test_nul_characters.py)
    st.characters(blacklist_characters=f"${MARK}\x00", blacklist_categories=["Cs"]), max_size=12
)
_TEMPLATE = st.lists(
    st.one_of(_ANY_TEXT, st.sampled_from(FIELDS).map(lambda name: f"${{{name}}}")), max_size=6
).map("".join)
_ZONES = st.sampled_from(["UTC", "America/New_York", "Europe/London", "Asia/Kolkata", None])


@given(
    subject=_TEMPLATE,
    text=_TEMPLATE,
    html=st.none() | _TEMPLATE,
    client_name=_ANY_TEXT,
    client_zone=_ZONES,
    clinician_name=_ANY_TEXT,
    location=st.none() | _ANY_TEXT,
    practice_name=_ANY_TEXT,
    practice_phone=st.none() | _ANY_TEXT,
    code=_ANY_TEXT.map(lambda s: MARK + s),
    modifier=st.none() | _ANY_TEXT.map(lambda s: s + MARK),
    kind=st.sampled_from(list(EmailKind)),
    own=st.booleans(),
)
def test_no_template_ever_shows_the_code_or_yields_an_unsafe_subject(
    subject: str,
    text: str,
    html: str | None,
    client_name: str,
    client_zone: str | None,
    clinician_name: str,
    location: str | None,
    practice_name: str,
    practice_phone: str | None,
    code: str,
    modifier: str | None,
    kind: EmailKind,
    own: bool,
) -> None:
    """Whatever the template and the values, no part of the email holds the service code or
    its modifier, and the subject is a safe header; an unsafe one raises InvalidHeader (when the
    template is built, or when the email is rendered), which the scheduler turns into a refused
    change."""
    try:
        template = EmailTemplate(subject=subject, text=text, html=html)
    except InvalidHeader:
        event("refused: the subject template")
        assert unsafe(subject)
        return
    practice = Practice(
        name=practice_name,
        phone=practice_phone,
        email_templates={kind: template} if own else {},
    )
    appointment = attrs.evolve(
        APPOINTMENT, service_code=code, code_modifier=modifier, location=location
    )
    client = Client(id="alice", name=client_name, email="alice@example.org", zone=client_zone)
    clinician = attrs.evolve(RIVERA, name=clinician_name, service_code=code)
    try:
        message = render(kind, appointment, client=client, clinician=clinician, practice=practice)
    except InvalidHeader:
        used = template if own else default_template(kind)
        context = email_context(appointment, client=client, clinician=clinician, practice=practice)
        event("refused: the subject filled in")
        assert unsafe(used.fill(context)[0])
        return
    event("rendered")
    for part in (message.subject, message.text, message.html):
        assert MARK not in part
    assert not unsafe(message.subject)
