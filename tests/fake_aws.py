#!/usr/bin/python3
"""The AWS side of SigV4 remote write, faked for tests (AWS is the only peer
we fake). One process, two ports:

  credentials endpoint  GET <any path>   -> the ECS task role answer
      {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}; every call
      hands out a NEW key that expires --lifetime seconds later, so keys
      rotate during a test. Requires "Authorization: <--auth-token>" when
      that is set (the FULL_URI case).
  receiver              POST <any path>  -> 204 when the request's SigV4
      signature is right, 403 otherwise. The signature is recomputed
      independently with Debian's python3-botocore (SigV4Auth) from the
      method, URL, the headers the client said it signed, and the body.
  GET /_control on the receiver port     -> counts as JSON.

    fake_aws.py --region us-east-1 --service aps --lifetime 6 --port-file F
F receives "CRED_PORT RECV_PORT".
"""
import argparse
import datetime
import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOCK = threading.Lock()
KEYS = {}  # access key id -> (secret, token, expires datetime)
COUNTS = {"issued_secrets": [], "issued": 0, "accepted": 0, "rejected": 0, "expired_key_used": 0, "keys_used": [], "reasons": []}
ARGS = None


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class Credentials_(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        if ARGS.auth_token and self.headers.get("Authorization") != ARGS.auth_token:
            self.send_response(401)
            self.end_headers()
            return
        key = "ASIA" + secrets.token_hex(8).upper()
        secret = secrets.token_urlsafe(30)
        token = "IQoJb3JpZ2luX2VjE" + secrets.token_urlsafe(60)
        expires = utcnow() + datetime.timedelta(seconds=ARGS.lifetime)
        with LOCK:
            KEYS[key] = (secret, token, expires)
            COUNTS["issued"] += 1
            COUNTS["issued_secrets"] += [secret, token]  # for the test's log grep
        body = json.dumps({"AccessKeyId": key, "SecretAccessKey": secret, "Token": token,
                           "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "RoleArn": "arn:aws:iam::123456789012:role/test"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def verify(method, path, headers, body):
    """'' when the signature is right, else why not."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization header"
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key, date, region, service, term = parts["Credential"].split("/")
    if region != ARGS.region or service != ARGS.service or term != "aws4_request":
        return f"wrong scope {region}/{service}/{term}"
    with LOCK:
        known = KEYS.get(key)
    if known is None and key == ARGS.static_key:
        known = (ARGS.static_secret, None, None)
    if known is None:
        return "unknown access key"
    secret, token, expires = known
    if expires is not None and utcnow() > expires + datetime.timedelta(seconds=1):
        with LOCK:
            COUNTS["expired_key_used"] += 1
        return "expired key"
    if token is not None and headers.get("x-amz-security-token") != token:
        return "session token missing or wrong"
    signed = parts["SignedHeaders"].split(";")
    if "x-amz-date" not in signed or "host" not in signed:
        return "host or x-amz-date not signed"
    if token is not None and "x-amz-security-token" not in signed:
        return "the session token header is not signed"
    # The request as the client signed it, re-signed by botocore.
    req = AWSRequest(method=method, url="http://" + headers["Host"] + path,
                     data=body, headers={h: headers[h] for h in signed if h != "host"})
    req.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(key, secret, token), service, region)
    canonical = signer.canonical_request(req)
    expected = signer.signature(signer.string_to_sign(req, canonical), req)
    if expected != parts["Signature"]:
        return "signature mismatch"
    if headers.get("x-amz-content-sha256") not in (None, hashlib.sha256(body).hexdigest()):
        return "payload hash mismatch"
    return ""


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        with LOCK:
            body = json.dumps(COUNTS).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        why = verify("POST", self.path, self.headers, body)
        with LOCK:
            if why:
                COUNTS["rejected"] += 1
                COUNTS["reasons"].append(why)
            else:
                COUNTS["accepted"] += 1
                key = self.headers["Authorization"].split("Credential=")[1].split("/")[0]
                if key not in COUNTS["keys_used"]:
                    COUNTS["keys_used"].append(key)
        if why:
            msg = f"<AccessDeniedException><Message>{why}</Message></AccessDeniedException>".encode()
            self.send_response(403)
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
        else:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--service", default="aps")
    ap.add_argument("--lifetime", type=int, default=3600)
    ap.add_argument("--auth-token", default="")
    ap.add_argument("--static-key", default="")
    ap.add_argument("--static-secret", default="")
    ap.add_argument("--port-file", required=True)
    ARGS = ap.parse_args()
    cred = ThreadingHTTPServer(("127.0.0.1", 0), Credentials_)
    recv = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=cred.serve_forever, daemon=True).start()
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(f"{cred.server_address[1]} {recv.server_address[1]}\n")
    import os
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    recv.serve_forever()


if __name__ == "__main__":
    main()
