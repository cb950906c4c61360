// Object names taken from URLs and forms: a DNS-1123 subdomain or nothing, so no request path the
// portal builds can carry a dot segment or a slash into another organization's objects.
import { z } from 'zod';

export const objectName = z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);

export const isObjectName = (s: unknown): s is string => objectName.safeParse(s).success;
