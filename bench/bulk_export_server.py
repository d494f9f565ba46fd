#!/usr/bin/env python3
"""A minimal Bulk Data $export server for the streaming memory benchmark.

Writes an export of N synthetic patients (a Patient, a Condition and eight
Observations each, about 4 KB per patient) as NDJSON files under OUT_DIR,
then answers a Patient/$export kick-off (202 + Content-Location), one
status poll (200 + manifest) and the file downloads (Content-Length), as
the Bulk Data Access IG describes. Used by bench/run-bulk-stream.sh.

    bulk_export_server.py --patients N --out-dir DIR --port-file FILE
                          [--note-bytes B]
"""
import argparse
import http.server
import json
import os
import shutil
import socketserver

TYPES = ("Patient", "Condition", "Observation")


def write_export(patients, out_dir, note_bytes):
    files = {t: open(os.path.join(out_dir, t + ".ndjson"), "w") for t in TYPES}
    note = "x" * note_bytes
    for i in range(patients):
        pid = "p%06d" % i
        subject = {"reference": "Patient/" + pid}
        files["Patient"].write(json.dumps(
            {"resourceType": "Patient", "id": pid, "gender": "female",
             "birthDate": "1950-01-01"}) + "\n")
        files["Condition"].write(json.dumps(
            {"resourceType": "Condition", "id": "c" + pid[1:], "subject": subject,
             "code": {"coding": [{"system": "http://snomed.info/sct",
                                  "code": "94503003"}]},
             "note": [{"text": note}]}) + "\n")
        for k in range(8):
            files["Observation"].write(json.dumps(
                {"resourceType": "Observation", "id": "o%s-%d" % (pid[1:], k),
                 "status": "final", "subject": subject,
                 "code": {"coding": [{"system": "http://loinc.org",
                                      "code": "72514-3"}]},
                 "valueInteger": k, "note": [{"text": note}]}) + "\n")
    for f in files.values():
        f.close()
    return sum(os.path.getsize(os.path.join(out_dir, t + ".ndjson")) for t in TYPES)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    out_dir = "."

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def base(self):
        return "http://%s/fhir" % self.headers["Host"]

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/fhir/Patient/$export":
            self.reply(202, headers=[("Content-Location", self.base() + "/status/1")])
        elif path == "/fhir/status/1":
            manifest = {
                "transactionTime": "2026-03-01T12:00:00Z",
                "request": self.base() + "/Patient/$export",
                "requiresAccessToken": False,
                "output": [{"type": t, "url": self.base() + "/files/" + t + ".ndjson"}
                           for t in TYPES],
                "error": []}
            self.reply(200, json.dumps(manifest).encode(),
                       [("Content-Type", "application/json")])
        elif path.startswith("/fhir/files/") and path[12:-7] in TYPES:
            name = os.path.join(self.out_dir, path[12:])
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+ndjson")
            self.send_header("Content-Length", str(os.path.getsize(name)))
            self.end_headers()
            with open(name, "rb") as f:
                shutil.copyfileobj(f, self.wfile, 1 << 16)
        else:
            self.reply(404)

    def do_DELETE(self):
        self.reply(202)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--note-bytes", type=int, default=300,
                        help="text per resource: file size without more patients")
    args = parser.parse_args()
    size = write_export(args.patients, args.out_dir, args.note_bytes)
    Handler.out_dir = args.out_dir
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d %d\n" % (server.server_address[1], size))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
