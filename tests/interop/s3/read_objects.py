#!/usr/bin/env python3
"""Lists the objects under a prefix of an S3-compatible bucket with boto3 and prints, as JSON,
each object's key, size and the sha256 of its content, as read back with GetObject.

Used by the Streams Firehose tests to read what the server uploaded with a client nobody here
wrote. Credentials and region come from the environment (AWS_ACCESS_KEY_ID, ...).

    read_objects.py --endpoint http://127.0.0.1:4569 --bucket b [--prefix logs/]
"""
import argparse
import hashlib
import json
import sys

try:
    import boto3
    from botocore.config import Config
except ImportError as error:  # pragma: no cover - depends on the machine
    sys.exit("boto3 is not installed for %s (%s): install the Debian package python3-boto3 "
             "(scripts/test.sh does)" % (sys.executable, error))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default="")
    args = parser.parse_args()

    client = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"max_attempts": 1}),
    )
    objects = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=args.bucket, Prefix=args.prefix):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=args.bucket, Key=item["Key"])["Body"].read()
            objects.append({
                "key": item["Key"],
                "size": item["Size"],
                "read_bytes": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            })
    objects.sort(key=lambda o: o["key"])
    json.dump(objects, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
