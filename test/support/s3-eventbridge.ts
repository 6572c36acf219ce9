/** S3's EventBridge events for tests, in the shape of AWS's published samples. */

/** An S3 EventBridge event: the envelope AWS's samples share around `detail`. */
export function s3EventBridgeEvent(
  id: string,
  detailType: string,
  bucket: string,
  detail: Record<string, unknown>,
) {
  return {
    version: "0",
    id,
    "detail-type": detailType,
    source: "aws.s3",
    account: "111122223333",
    time: "2021-11-12T00:00:00Z",
    region: "ca-central-1",
    resources: [`arn:aws:s3:::${bucket}`],
    detail: { version: "0", bucket: { name: bucket }, ...detail },
  };
}

/** AWS's sample "Object Deleted" event (DeleteObject) for a bucket, key and deletion type. */
export function s3ObjectDeletedEvent(bucket: string, key: string, deletionType: string) {
  return s3EventBridgeEvent("2ee9cc15-d022-99ea-1fb8-1b1bac4850f9", "Object Deleted", bucket, {
    object: {
      key,
      etag: "d41d8cd98f00b204e9800998ecf8427e",
      "version-id": "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF",
      sequencer: "617f0837b476e463",
    },
    "request-id": "0BH729840619AG5K",
    requester: "123456789012",
    "source-ip-address": "1.2.3.4",
    reason: "DeleteObject",
    "deletion-type": deletionType,
  });
}
