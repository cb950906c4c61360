// The ACS body limit: what the sp-server reads of one POST before refusing it, and the range an
// installation may choose from (--acs-body-limit-bytes, the chart's spServer.acsBodyLimitBytes).
// Real responses are a few tens of KiB; one of 150 attribute values is about 22 KiB.

export const ACS_BODY_LIMIT_BYTES = 256 * 1024;
export const ACS_BODY_LIMIT_MIN_BYTES = 16 * 1024;
export const ACS_BODY_LIMIT_MAX_BYTES = 1024 * 1024;
