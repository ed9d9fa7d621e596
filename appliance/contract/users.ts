// API-3 users, roles, login and kiosk tokens, as the API and the admin UI exchange them.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, NullableIsoTime } from './api.ts';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = Type.Union(ROLES.map((role) => Type.Literal(role)));

/** viewer < operator < admin: each role can do what the ones before it can. */
export const roleRank = (role: Role): number => ROLES.indexOf(role);

export const USERNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.@-]{1,31}$';
const Username = Type.String({ pattern: USERNAME_PATTERN, description: '2-32 letters, digits, _ . @ -' });
const NewPassword = Type.String({ minLength: 8, maxLength: 128, description: 'at least 8 characters' });

export const LoginRequest = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);
export const LoginResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'seconds' }),
  role: RoleSchema,
  must_change_password: Type.Boolean(),
});

export const PasswordChange = Type.Object(
  { current_password: Type.String({ minLength: 1, maxLength: 256 }), new_password: NewPassword },
  { additionalProperties: false },
);

export const UserView = Type.Object({
  username: Type.String(),
  role: RoleSchema,
  enabled: Type.Boolean(),
  must_change_password: Type.Boolean(),
  last_login_at: NullableIsoTime,
  created_at: IsoTime,
  updated_at: IsoTime,
});
export type UserView = Static<typeof UserView>;

export const Me = Type.Object({
  username: Type.String(),
  role: RoleSchema,
  kind: Type.Union([Type.Literal('user'), Type.Literal('kiosk')]),
  must_change_password: Type.Boolean(),
});

export const UserCreate = Type.Object(
  { username: Username, role: RoleSchema, password: NewPassword },
  { additionalProperties: false },
);
export type UserCreate = Static<typeof UserCreate>;

export const UserUpdate = Type.Object(
  {
    role: Type.Optional(RoleSchema),
    enabled: Type.Optional(Type.Boolean()),
    /** Sets a new password the user must change at the next login. */
    password: Type.Optional(NewPassword),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UserUpdate = Static<typeof UserUpdate>;

export const KioskTokenCreate = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64, description: 'where the screen is, e.g. "control room"' }) },
  { additionalProperties: false },
);
export const KioskTokenView = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  created_by: Type.String(),
  created_at: IsoTime,
  last_used_at: NullableIsoTime,
});
export const KioskTokenCreated = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  token: Type.String({ description: 'shown once; open /dashboard?token=… on the screen' }),
});
