/* Loaded last: every view has registered itself, so the page can show the one in the address. */
"use strict";
window.VDTO.start();
