/** Berth's version, as `GET /version` and `docker version` report it (package.json's; a test checks they agree). */
export const BERTH_VERSION = "0.1.0";
