#!/usr/bin/env python3
"""Writes the committed seed corpora (fuzz/corpus/<target>/) from the readable cases below.

Requests and events are text protos encoded with `protoc --encode`, then framed the way each
target reads its input (fuzz_common.h CallReader; FuzzedDataProvider strings for the others).
Run from anywhere: python3 fuzz/seeds.py. The output is deterministic.
"""
import base64
import hashlib
import json
import pathlib
import shutil
import struct
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
CORPUS = ROOT / "fuzz" / "corpus"


def encode(message_type, text, proto):
    return subprocess.run(
        ["protoc", f"-I{PROTOS}", "-I/usr/include", f"--encode={message_type}", str(PROTOS / proto)],
        input=text.encode(), capture_output=True, check=True).stdout


def fdp_strings(*parts, tail=b""):
    """FuzzedDataProvider framing: ConsumeRandomLengthString ends a string at a backslash that
    is followed by another byte (a doubled backslash is one literal); integers come off the end."""
    out = b""
    for p in parts:
        out += p.replace(b"\\", b"\\\\") + b"\\x"
    return out + tail


def call(method, tenant, role, request):
    return bytes([method, tenant, role]) + struct.pack("<H", len(request)) + request


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def write(target, seeds):
    d = CORPUS / target
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for data in seeds:
        (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


INV = "partnercenter/invitation/v1/invitation_service.proto"
REL = "partnercenter/relationship/v1/relationship_service.proto"
NOT = "partnercenter/notification/v1/notification_service.proto"
EVT = "partnercenter/events/v1/events.proto"
ENVELOPE = "partnercenter.events.v1.EventEnvelope"
HEAD = ('event_id: "00000000-0000-4000-8000-00000000000{n}" schema_version: 1 '
        'occurred_at {{ seconds: 1750000000 }} cloud: CLOUD_GLOBAL partner_id: "partner-a" '
        'customer_id: "customer-1" aggregate_version: {v} correlation_id: "c" '
        'actor {{ kind: ACTOR_KIND_CUSTOMER_ADMIN id: "admin" tenant_id: "customer-1" }} ')
PROFILE = 'customer_profile { company_name: "Contoso" primary_domain: "contoso.com" country: "BR" }'

events = [
    encode(ENVELOPE, HEAD.format(n=1, v=2) + 'type: "InvitationAccepted" aggregate_id: "00000000-0000-4000-8000-0000000000a1" '
           'invitation_accepted { invitation_id: "00000000-0000-4000-8000-0000000000a1" '
           'kind: INVITATION_KIND_RESELLER_RELATIONSHIP include_admin_permission: true '
           f'partner_display_name: "Fabrikam" {PROFILE} }}', EVT),
    encode(ENVELOPE, HEAD.format(n=2, v=1) + 'type: "InvitationSent" aggregate_id: "00000000-0000-4000-8000-0000000000a2" '
           'invitation_sent { invitation_id: "00000000-0000-4000-8000-0000000000a2" '
           'kind: INVITATION_KIND_RESELLER_RELATIONSHIP customer_hint { tenant_id: "customer-1" } '
           'partner_display_name: "Fabrikam" expire_time { seconds: 1760000000 } locale: "en" }', EVT),
    encode(ENVELOPE, HEAD.format(n=3, v=1) + 'type: "RelationshipEstablished" aggregate_id: "partner-a:customer-1" '
           f'relationship_established {{ {PROFILE} partner_display_name: "Fabrikam" '
           'admin_access: ADMIN_ACCESS_GRANTED }', EVT),
    encode(ENVELOPE, HEAD.format(n=4, v=2) + 'type: "PermissionRevoked" aggregate_id: "partner-a:customer-1" '
           'permission_revoked { reason: "in-house IT" }', EVT),
    encode(ENVELOPE, HEAD.format(n=5, v=3) + 'type: "RelationshipRemoved" aggregate_id: "partner-a:customer-1" '
           'relationship_removed { reason: "ended" }', EVT),
    encode(ENVELOPE, HEAD.format(n=6, v=3) + 'type: "ServiceProvisioned" aggregate_id: "partner-a:customer-1" '
           'service_provisioned { service { id: "00000000-0000-4000-8000-0000000000b1" offer_id: "O365" '
           'display_name: "M365" license_quantity: 5 } }', EVT),
]
write("notification_events", [fdp_strings(e) for e in events] +
      [fdp_strings(events[2], events[3], events[5], events[4]), fdp_strings(events[1], events[0])])
write("relationship_events", [fdp_strings(events[0]), fdp_strings(events[0], events[0]), fdp_strings(b"\xff\x00")])

create = encode("partnercenter.invitation.v1.CreateInvitationRequest",
                'request_id: "r1" kind: INVITATION_KIND_RESELLER_RELATIONSHIP include_admin_permission: true '
                'customer_hint { email_domain: "contoso.com" } message: "hi" locale: "pt-BR" validity_days: 7', INV)
create_tenant = encode("partnercenter.invitation.v1.CreateInvitationRequest",
                       'request_id: "r2" kind: INVITATION_KIND_RESELLER_RELATIONSHIP '
                       'customer_hint { tenant_id: "customer-1" } custom_body: "Join us {{invitation_link}}"', INV)
accept = encode("partnercenter.invitation.v1.AcceptInvitationRequest",
                f'request_id: "a1" token: "@" {PROFILE}', INV)
accept_bad = encode("partnercenter.invitation.v1.AcceptInvitationRequest",
                    'request_id: "a2" token: "@" customer_profile { company_name: "" primary_domain: "x" country: "ZZ" }', INV)
preview = encode("partnercenter.invitation.v1.PreviewInvitationRequest", 'token: "@"', INV)
decline = encode("partnercenter.invitation.v1.DeclineInvitationRequest", 'request_id: "d1" token: "@" reason: "no"', INV)
listing = encode("partnercenter.invitation.v1.ListInvitationsRequest",
                 'page_size: 1 states: INVITATION_STATE_PENDING created_after { seconds: 1700000000 } '
                 'order_by: "expire_time asc"', INV)
listing_far = encode("partnercenter.invitation.v1.ListInvitationsRequest",
                     'created_after { seconds: 253402300799 } created_before { seconds: -62135596800 }', INV)
PARTNER, CUSTOMER = (0, 0), (2, 2)
write("invitation_handlers", [
    call(0, *PARTNER, create) + call(5, *CUSTOMER, preview) + call(6, *CUSTOMER, accept),
    call(0, *PARTNER, create_tenant) + call(7, *CUSTOMER, decline) + call(2, *PARTNER, listing),
    call(0, *PARTNER, create) + call(6, *CUSTOMER, accept_bad) + call(2, 0, 1, listing_far),
    call(0, *PARTNER, create) + call(4, *PARTNER, b"") + call(3, *PARTNER, b""),
])

rel = lambda t, text: encode(f"partnercenter.relationship.v1.{t}", text, REL)
PAIR = 'partner_id: "partner-a" customer_id: "customer-1"'
# Method indexes follow PC_RELATIONSHIP_RPCS (relationship/src/grpc_service.h).
write("relationship_handlers", [
    call(0, *PARTNER, rel("GetRelationshipRequest", PAIR)),
    call(1, *PARTNER, rel("ListRelationshipsRequest", 'page_size: 1 states: RELATIONSHIP_STATE_ACTIVE '
                                                       'states: RELATIONSHIP_STATE_ACTIVE order_by: "update_time desc"')),
    call(7, *PARTNER, rel("ProvisionServiceRequest", f'request_id: "p1" {PAIR} offer_id: "O365" '
                                                       'display_name: "M365" license_quantity: 3')) +
    call(9, *PARTNER, rel("CreateUserRequest", f'request_id: "u1" {PAIR} user_principal_name: "a@contoso.com" '
                                                 'display_name: "A"')),
    call(4, *CUSTOMER, rel("RevokeAdminPermissionRequest", f'request_id: "v1" {PAIR} reason: "x"')) +
    call(6, *PARTNER, rel("RequestAdminRestoreRequest", f'request_id: "q1" {PAIR}')),
    call(13, *PARTNER, rel("RemoveRelationshipRequest", f'request_id: "x1" {PAIR} reason: "done"')) +
    call(14, *PARTNER, rel("ListHistoryRequest", PAIR)),
    call(15, 4, 3, rel("CheckAdminAccessRequest", PAIR)),
])

note = lambda t, text: encode(f"partnercenter.notification.v1.{t}", text, NOT)
write("notification_handlers", [
    call(4, 0, 0, events[2]) + call(0, *PARTNER, note("GetCustomersPageRequest", 'page_size: 1 admin_access: ADMIN_ACCESS_GRANTED')),
    call(4, 0, 0, events[2]) + call(1, *CUSTOMER, note("GetPartnersPageRequest", 'customer_id: "customer-1"')),
    call(2, *PARTNER, note("WatchCustomersRequest", 'partner_id: "partner-a"')),
    call(3, *CUSTOMER, note("WatchPartnersRequest", 'customer_id: "customer-1"')),
])

uuid = b"00000000-0000-4000-8000-000000000001"
write("page_tokens", [
    b"\x00" + base64.urlsafe_b64encode(b"v1|0|1750000000000000|" + uuid),
    b"\x01" + b"r1.0." + b64url(b"contoso") + b"." + b64url(uuid),
    b"\x02" + b"1750000000000000." + uuid,
    b"\x03" + b"",
])

good_claims = {"iss": "https://login.pc.test", "aud": "partnercenter", "sub": "alice", "tid": "partner-1",
               "cloud": "global", "roles": ["partner_admin"], "iat": 1700000000, "exp": 1700003600}
header = b64url(json.dumps({"alg": "ES256", "kid": "es-1", "typ": "JWT"}).encode())
payload = b64url(json.dumps(good_claims).encode())
write("jwt", [
    b"\x00" + header + b"." + payload + b"." + b64url(bytes(64)),
    b"\x00" + b64url(json.dumps({"alg": "RS256", "kid": "rs-1"}).encode()) + b"." + payload + b"." + b64url(bytes(256)),
    b"\x00" + b64url(b'{"alg":"HS256","kid":"es-1"}') + b"." + payload + b".c2ln",
    b"\x01" + json.dumps(good_claims).encode(),
    b"\x01" + json.dumps(dict(good_claims, aud=["x", "partnercenter"], nbf=1700000100, name="A")).encode(),
    b"\x01" + json.dumps(dict(good_claims, exp=1e300, roles=[1])).encode(),
])

write("url", [b"a=1&b=%41%zz+x&a=2", b"next=%2Fcustomers%3Fq%3D1", b"%", b"=&&==", "ünï=çødé".encode()])
write("email_draft", [
    fdp_strings(b"en", b"Fabrikam", b"Looking forward", b"", b"partner@fabrikam.com", tail=b"token123\x00\x01"),
    fdp_strings(b"pt-BR", b"Fabrikam %s %n", b"line\r\nBcc: x@y", b"custom {{invitation_link}} body", b"a b", tail=b"\x01\xff"),
])

# Portal: method, path, query, body, cookie, Last-Event-ID, Sec-Fetch-Site; then (from the
# end) a bool (CSRF token or not) and who (0 anonymous, 1–4 a role).
write("portal", [
    fdp_strings(b"GET", b"/", b"", b"", b"", b"", b"", tail=b"\x00\x00"),
    fdp_strings(b"GET", b"/customers", b"q=con&order=last_change", b"", b"", b"", b"same-origin", tail=b"\x01\x01"),
    fdp_strings(b"GET", b"/invitations/accept", b"token=abc", b"", b"", b"", b"cross-site", tail=b"\x00\x03"),
    fdp_strings(b"POST", b"/invitations/accept", b"", b"token=abc&company_name=C&primary_domain=c.com&country=BR",
                b"", b"", b"", tail=b"\x01\x03"),
    fdp_strings(b"POST", b"/invitations", b"", b"kind=reseller&email_domain=contoso.com&message=hi", b"", b"", b"",
                tail=b"\x01\x01"),
    fdp_strings(b"GET", b"/customers/events", b"after=3", b"", b"", b"7", b"", tail=b"\x00\x02"),
    fdp_strings(b"POST", b"/signin", b"next=%2Fcustomers", b"tenant=partner-a&role=partner_admin", b"pc_session=garbage",
                b"", b"", tail=b"\x00\x00"),
    fdp_strings(b"GET", b"/customers/customer-1", b"", b"", b"", b"", b"", tail=b"\x00\x01"),
])
print("fuzz: wrote seeds to", CORPUS)
