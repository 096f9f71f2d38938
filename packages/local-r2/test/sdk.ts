// The SDK as namespaces, so tests destructure only the commands they use.
export * as sdk from '@aws-sdk/client-s3';
export * as presigner from '@aws-sdk/s3-request-presigner';
