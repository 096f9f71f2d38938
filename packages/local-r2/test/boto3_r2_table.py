"""Runs R2-table checks with boto3 against a local-r2 endpoint; prints one JSON object {check: "ok" | error}.

Usage: /usr/bin/python3 boto3_r2_table.py ENDPOINT BUCKET (credentials from AWS_* env).
"""
import datetime
import hashlib
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",  # boto3 1.26 + 'auto' mis-resolves; local-r2 aliases us-east-1 as R2 does
    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}),
)
results = {}


def check(fn):
    try:
        fn()
        results[fn.__name__] = "ok"
    except Exception as e:  # noqa: BLE001 - every failure is reported to the Vitest side
        results[fn.__name__] = f"{type(e).__name__}: {e}"
    return fn


def code(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("expected an error")


def eq(a, b):
    if a != b:
        raise AssertionError(f"{a!r} != {b!r}")


KEY = os.urandom(32)
OTHER = os.urandom(32)
SSE = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}  # boto3 base64s the key and adds the MD5


@check
def sse_c_put_get_head():
    body = os.urandom(70_001)
    s3.put_object(Bucket=bucket, Key="py/enc", Body=body, **SSE)
    eq(s3.get_object(Bucket=bucket, Key="py/enc", **SSE)["Body"].read(), body)
    eq(s3.get_object(Bucket=bucket, Key="py/enc", Range="bytes=15-40000", **SSE)["Body"].read(), body[15:40001])
    eq(s3.head_object(Bucket=bucket, Key="py/enc", **SSE)["SSECustomerAlgorithm"], "AES256")
    eq(code(s3.get_object, Bucket=bucket, Key="py/enc"), ("InvalidRequest", 400))
    eq(code(s3.get_object, Bucket=bucket, Key="py/enc", SSECustomerAlgorithm="AES256", SSECustomerKey=OTHER), ("AccessDenied", 403))
    eq(code(s3.head_object, Bucket=bucket, Key="py/enc", SSECustomerAlgorithm="AES256", SSECustomerKey=OTHER)[1], 403)


@check
def sse_c_multipart_and_copies():
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(99)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="py/encmp", **SSE)["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="py/encmp", UploadId=up, PartNumber=i + 1, Body=p, **SSE)["ETag"] for i, p in enumerate(parts)]
    s3.complete_multipart_upload(Bucket=bucket, Key="py/encmp", UploadId=up, MultipartUpload={"Parts": [{"ETag": e, "PartNumber": i + 1} for i, e in enumerate(etags)]})
    eq(s3.get_object(Bucket=bucket, Key="py/encmp", PartNumber=2, **SSE)["Body"].read(), parts[1])
    s3.copy_object(Bucket=bucket, Key="py/encmp2", CopySource=f"{bucket}/py/encmp", CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=KEY, SSECustomerAlgorithm="AES256", SSECustomerKey=OTHER)
    eq(s3.get_object(Bucket=bucket, Key="py/encmp2", SSECustomerAlgorithm="AES256", SSECustomerKey=OTHER)["Body"].read(), b"".join(parts))
    up2 = s3.create_multipart_upload(Bucket=bucket, Key="py/upc")["UploadId"]
    r = s3.upload_part_copy(Bucket=bucket, Key="py/upc", UploadId=up2, PartNumber=1, CopySource=f"{bucket}/py/encmp", CopySourceRange="bytes=10-109", CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=KEY)
    eq(r["CopyPartResult"]["ETag"], '"%s"' % hashlib.md5(parts[0][10:110]).hexdigest())
    s3.complete_multipart_upload(Bucket=bucket, Key="py/upc", UploadId=up2, MultipartUpload={"Parts": [{"ETag": r["CopyPartResult"]["ETag"], "PartNumber": 1}]})
    eq(s3.get_object(Bucket=bucket, Key="py/upc")["Body"].read(), parts[0][10:110])
    eq(code(s3.upload_part_copy, Bucket=bucket, Key="py/upc", UploadId=up2, PartNumber=1, CopySource=f"{bucket}/py/encmp", CopySourceRange="bytes=0-99999999")[0], "NoSuchUpload")


@check
def conditional_reads_ranges_overrides():
    etag = s3.put_object(Bucket=bucket, Key="py/c", Body=b"0123456789", ContentType="text/plain")["ETag"]
    eq(code(s3.get_object, Bucket=bucket, Key="py/c", IfMatch='"nope"'), ("PreconditionFailed", 412))
    eq(code(s3.get_object, Bucket=bucket, Key="py/c", IfNoneMatch=etag)[1], 304)
    eq(code(s3.head_object, Bucket=bucket, Key="py/c", IfUnmodifiedSince=datetime.datetime(2000, 1, 1))[1], 412)
    eq(code(s3.get_object, Bucket=bucket, Key="py/c", IfModifiedSince=datetime.datetime(2100, 1, 1))[1], 304)
    eq(s3.get_object(Bucket=bucket, Key="py/c", Range="bytes=2-4")["Body"].read(), b"234")
    eq(code(s3.get_object, Bucket=bucket, Key="py/c", Range="bytes=10-"), ("InvalidRange", 416))
    g = s3.get_object(Bucket=bucket, Key="py/c", ResponseContentType="image/png", ResponseContentDisposition="attachment", ResponseCacheControl="no-cache")
    eq((g["ContentType"], g["ContentDisposition"], g["CacheControl"]), ("image/png", "attachment", "no-cache"))


@check
def copy_object_metadata_conditions_missing_source():
    etag = s3.put_object(Bucket=bucket, Key="py/src", Body=b"x", Metadata={"a": "1"}, StorageClass="STANDARD_IA")["ETag"]
    s3.copy_object(Bucket=bucket, Key="py/dst", CopySource=f"{bucket}/py/src")
    eq(s3.head_object(Bucket=bucket, Key="py/dst")["Metadata"], {"a": "1"})
    s3.copy_object(Bucket=bucket, Key="py/dst", CopySource=f"{bucket}/py/src", MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="text/csv", StorageClass="STANDARD")
    hd = s3.head_object(Bucket=bucket, Key="py/dst")
    eq((hd["Metadata"], hd["ContentType"], hd.get("StorageClass")), ({"b": "2"}, "text/csv", None))
    eq(s3.head_object(Bucket=bucket, Key="py/src")["StorageClass"], "STANDARD_IA")
    eq(code(s3.copy_object, Bucket=bucket, Key="py/dst", CopySource=f"{bucket}/py/src", CopySourceIfNoneMatch=etag), ("PreconditionFailed", 412))
    eq(code(s3.copy_object, Bucket=bucket, Key="py/dst", CopySource=f"{bucket}/py/missing"), ("NoSuchKey", 404))
    eq(code(s3.put_object, Bucket=bucket, Key="py/sc", Body=b"x", StorageClass="GLACIER"), ("NotImplemented", 501))


@check
def part_number_reads():
    parts = [os.urandom(5 * 1024 * 1024), b"tail"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="py/pn")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="py/pn", UploadId=up, PartNumber=i + 1, Body=p)["ETag"] for i, p in enumerate(parts)]
    s3.complete_multipart_upload(Bucket=bucket, Key="py/pn", UploadId=up, MultipartUpload={"Parts": [{"ETag": e, "PartNumber": i + 1} for i, e in enumerate(etags)]})
    g = s3.get_object(Bucket=bucket, Key="py/pn", PartNumber=2)
    eq((g["Body"].read(), g["PartsCount"]), (b"tail", 2))
    eq(s3.head_object(Bucket=bucket, Key="py/pn", PartNumber=1)["ContentLength"], 5 * 1024 * 1024)


@check
def buckets_lists_deletes_and_501s():
    eq(s3.get_bucket_location(Bucket=bucket)["LocationConstraint"], "auto")
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    eq(rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256")
    for k in ["py/l/a", "py/l/b/c", "py/l/d"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    page = s3.list_objects(Bucket=bucket, Prefix="py/l/", Delimiter="/", MaxKeys=1)
    eq(([c["Key"] for c in page["Contents"]], page["IsTruncated"]), (["py/l/a"], True))
    rest = s3.list_objects(Bucket=bucket, Prefix="py/l/", Delimiter="/", Marker=page["NextMarker"])
    eq(([p["Prefix"] for p in rest["CommonPrefixes"]], [c["Key"] for c in rest["Contents"]]), (["py/l/b/"], ["py/l/d"]))
    r = s3.delete_objects(Bucket=bucket, Delete={"Quiet": True, "Objects": [{"Key": "py/l/a"}, {"Key": "py/l/d"}]})
    eq(r.get("Deleted", []), [])
    eq(code(s3.get_bucket_tagging, Bucket=bucket), ("NotImplemented", 501))
    eq(code(s3.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}), ("NotImplemented", 501))
    eq(code(s3.get_object_tagging, Bucket=bucket, Key="py/l/b/c"), ("NotImplemented", 501))


@check
def ignored_headers():
    s3.put_object(Bucket=bucket, Key="py/ign", Body=b"i", ACL="public-read", RequestPayer="requester", ExpectedBucketOwner="1", ObjectLockLegalHoldStatus="ON")
    eq(s3.get_object(Bucket=bucket, Key="py/ign", ExpectedBucketOwner="1")["Body"].read(), b"i")
    eq(code(s3.put_object, Bucket=bucket, Key="py/tag", Body=b"t", Tagging="a=b"), ("NotImplemented", 501))


print(json.dumps(results))
