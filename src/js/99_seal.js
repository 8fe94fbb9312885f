"use strict";
// Last polyfill: freeze the coldstart namespace (user code may read it, not replace its parts).
Object.freeze(internals.coldstart.fs);
Object.freeze(internals.coldstart);
