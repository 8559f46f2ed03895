// The attachments bucket: client-encrypted blobs (issue 13), written and read by clients through
// presigned URLs the attachment routes sign, deleted by the sweeper, and expired by lifecycle shortly
// after the messages that could point at them. Private, TLS only, ACLs off, S3-managed encryption,
// unversioned (deleted means gone), with server access logs in a log bucket of its own (versioned,
// kept a year). What the Control Tower rules flag on them is acknowledged, with reasons, in
// lib/policy-acknowledgements.ts.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods, ObjectOwnership, type CorsRule } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ATTACHMENT_PREFIX } from '../routes.ts';

/** Blobs outlive the messages that carry their keys by this much: a message expires (DynamoDB TTL, best effort, ~2 days) before its blob does. */
export const BLOB_EXPIRY_MARGIN_DAYS = 2;
/** Multipart uploads nobody completed are aborted (and their parts deleted) after this many days. */
export const ABORT_MULTIPART_AFTER_DAYS = 1;
/** Server access logs are kept a year, as the stack's log groups are (LOG_RETENTION). */
export const ACCESS_LOG_EXPIRY_DAYS = 365;
/** A deleted or expired access log stays recoverable (a noncurrent version) this many days. */
export const DELETED_LOG_RECOVERY_DAYS = 30;
/** Key prefix of the server access logs in the log bucket. */
export const SERVER_ACCESS_LOG_PREFIX = 'attachments-bucket/';
/** What browsers may send to the bucket: the presigned PUT (its signed headers) and GET/HEAD. */
export const BUCKET_CORS = {
  allowedMethods: ['PUT', 'GET', 'HEAD'],
  allowedHeaders: ['content-type', 'content-length'],
  exposedHeaders: ['etag', 'content-length'],
  maxAgeSeconds: 3600,
} as const;

export interface AttachmentsBucketProps {
  /** Browser origins allowed to PUT/GET blobs (the stack's corsOrigins setting); none, no CORS at all. */
  readonly corsOrigins?: readonly string[];
  /** Days messages are kept; blobs under the attachments prefix expire BLOB_EXPIRY_MARGIN_DAYS later. */
  readonly messageRetentionDays: number;
}

export class AttachmentsBucket extends Construct {
  /** The blobs. Its name reaches the functions granted rights on it (ATTACHMENTS_BUCKET). */
  readonly bucket: Bucket;
  /** Server access logs of the attachments bucket. */
  readonly logBucket: Bucket;
  /** Days after upload an object under the attachments prefix is deleted by lifecycle. */
  readonly blobExpiryDays: number;

  constructor(scope: Construct, id: string, props: AttachmentsBucketProps) {
    super(scope, id);
    this.blobExpiryDays = props.messageRetentionDays + BLOB_EXPIRY_MARGIN_DAYS;

    // Server access logs can only be delivered to a bucket with S3-managed encryption (SSE-S3), not SSE-KMS.
    this.logBucket = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      // With ACLs off, CDK grants log delivery by a bucket policy (logging.s3.amazonaws.com, from the attachments bucket and this account only).
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Versioned, unlike the blobs: logs are evidence, and a log deleted by mistake (or by someone
      // covering tracks) stays recoverable for a while as a noncurrent version.
      versioned: true,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: Duration.days(ACCESS_LOG_EXPIRY_DAYS),
          noncurrentVersionExpiration: Duration.days(DELETED_LOG_RECOVERY_DAYS),
        },
        // S3 does not allow this in the rule above: the delete markers left once a log's versions are all gone.
        { id: 'RemoveExpiredDeleteMarkers', expiredObjectDeleteMarker: true },
      ],
      // Like the tables: kept on update and stack delete (logs are evidence; a non-empty bucket could
      // not be deleted anyway); a rolled-back first create removes it. Its lifecycle keeps expiring logs.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });

    this.bucket = new Bucket(this, 'Blobs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // SSE-S3, not the stack's KMS key: blobs are already encrypted by the clients (the server never
      // holds their keys), presigned GETs and PUTs by clients would each need the role's kms:Decrypt /
      // kms:GenerateDataKey and cost a KMS request, and the stack's one key is the logs key, whose policy
      // is CloudWatch Logs' alone.
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Unversioned: the product promises that a deleted blob is gone (sweeper, account deletion,
      // expiry); a versioned bucket would keep it as a noncurrent version. Keys are write-once
      // (<owner>/<random attachment id>), so versioning would protect nothing that is meant to stay.
      versioned: false,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: SERVER_ACCESS_LOG_PREFIX,
      cors: corsRules(props.corsOrigins),
      lifecycleRules: [
        { id: 'ExpireBlobs', prefix: ATTACHMENT_PREFIX, expiration: Duration.days(this.blobExpiryDays) },
        { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(ABORT_MULTIPART_AFTER_DAYS) },
      ],
      // As the tables: kept on update and stack delete, removed only when a first create rolls back. A
      // retained bucket keeps its lifecycle rules, so its blobs still expire after the stack is gone.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
  }
}

/** CORS rules for the browsers' presigned PUT/GET/HEAD from the stack's origins; none without origins. */
function corsRules(origins: readonly string[] | undefined): CorsRule[] | undefined {
  if (!origins?.length) return undefined;
  return [
    {
      allowedOrigins: [...origins],
      allowedMethods: BUCKET_CORS.allowedMethods.map((m) => HttpMethods[m]),
      allowedHeaders: [...BUCKET_CORS.allowedHeaders],
      exposedHeaders: [...BUCKET_CORS.exposedHeaders],
      maxAge: BUCKET_CORS.maxAgeSeconds,
    },
  ];
}
