// OCSF 1.x vocabulary the generator emits: classes, categories, enum captions and the base event shape.

/** The OCSF schema version written to `metadata.version`. */
export const OCSF_VERSION = '1.3.0';

/** One OCSF event as a plain JSON object (nested objects, epoch-millisecond `time`). */
export interface OcsfEvent {
  activity_id: number;
  activity_name: string;
  category_uid: number;
  category_name: string;
  class_uid: number;
  class_name: string;
  type_uid: number;
  type_name: string;
  severity_id: number;
  severity: string;
  status_id: number;
  status: string;
  time: number;
  metadata: {
    product: { name: string; vendor_name: string; version: string };
    version: string;
    uid: string;
    log_name?: string;
  };
  message?: string;
  duration?: number;
  [field: string]: unknown;
}

/** Static description of an OCSF event class: its ids, names and activity captions. */
export interface OcsfClass {
  class_uid: number;
  class_name: string;
  category_uid: number;
  category_name: string;
  activities: Readonly<Record<number, string>>;
}

/** The event classes the generator produces, keyed by a short name. */
export const CLASSES = {
  process: {
    class_uid: 1007,
    class_name: 'Process Activity',
    category_uid: 1,
    category_name: 'System Activity',
    activities: {
      0: 'Unknown',
      1: 'Launch',
      2: 'Terminate',
      3: 'Open',
      4: 'Inject',
      5: 'Set User ID',
      99: 'Other',
    },
  },
  auth: {
    class_uid: 3002,
    class_name: 'Authentication',
    category_uid: 3,
    category_name: 'Identity & Access Management',
    activities: {
      0: 'Unknown',
      1: 'Logon',
      2: 'Logoff',
      3: 'Authentication Ticket',
      4: 'Service Ticket Request',
      5: 'Service Ticket Renew',
      99: 'Other',
    },
  },
  network: {
    class_uid: 4001,
    class_name: 'Network Activity',
    category_uid: 4,
    category_name: 'Network Activity',
    activities: {
      0: 'Unknown',
      1: 'Open',
      2: 'Close',
      3: 'Reset',
      4: 'Fail',
      5: 'Refuse',
      6: 'Traffic',
      7: 'Listen',
      99: 'Other',
    },
  },
  http: {
    class_uid: 4002,
    class_name: 'HTTP Activity',
    category_uid: 4,
    category_name: 'Network Activity',
    activities: {
      0: 'Unknown',
      1: 'Connect',
      2: 'Delete',
      3: 'Get',
      4: 'Head',
      5: 'Options',
      6: 'Post',
      7: 'Put',
      8: 'Trace',
      9: 'Patch',
      99: 'Other',
    },
  },
  api: {
    class_uid: 6003,
    class_name: 'API Activity',
    category_uid: 6,
    category_name: 'Application Activity',
    activities: { 0: 'Unknown', 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
  },
} as const satisfies Record<string, OcsfClass>;

/** Short name of a generated class. */
export type ClassKey = keyof typeof CLASSES;

/** OCSF `severity_id` captions. */
export const SEVERITY: Readonly<Record<number, string>> = {
  0: 'Unknown',
  1: 'Informational',
  2: 'Low',
  3: 'Medium',
  4: 'High',
  5: 'Critical',
  6: 'Fatal',
  99: 'Other',
};

/** OCSF `status_id` captions. */
export const STATUS: Readonly<Record<number, string>> = {
  0: 'Unknown',
  1: 'Success',
  2: 'Failure',
  99: 'Other',
};

/** HTTP methods mapped to HTTP Activity `activity_id`. */
export const HTTP_ACTIVITY: Readonly<Record<string, number>> = {
  CONNECT: 1,
  DELETE: 2,
  GET: 3,
  HEAD: 4,
  OPTIONS: 5,
  POST: 6,
  PUT: 7,
  TRACE: 8,
  PATCH: 9,
};

/** The product that reported an event (`metadata.product`). */
export interface Product {
  name: string;
  vendor_name: string;
  version: string;
}

/**
 * Creates the fields every OCSF event carries, in a fixed key order: ids and captions, `type_uid =
 * class_uid * 100 + activity_id`, severity, status, time and metadata (its `uid` is filled in on output).
 */
export function baseEvent(
  cls: ClassKey,
  activityId: number,
  time: number,
  severityId: number,
  statusId: number,
  product: Product,
  logName?: string,
): OcsfEvent {
  const c: OcsfClass = CLASSES[cls];
  const activityName = c.activities[activityId] ?? 'Other';
  const metadata: OcsfEvent['metadata'] = { product, version: OCSF_VERSION, uid: '' };
  if (logName !== undefined) metadata.log_name = logName;
  return {
    activity_id: activityId,
    activity_name: activityName,
    category_uid: c.category_uid,
    category_name: c.category_name,
    class_uid: c.class_uid,
    class_name: c.class_name,
    type_uid: c.class_uid * 100 + activityId,
    type_name: `${c.class_name}: ${activityName}`,
    severity_id: severityId,
    severity: SEVERITY[severityId] ?? 'Other',
    status_id: statusId,
    status: STATUS[statusId] ?? 'Other',
    time,
    metadata,
  };
}
