#pragma once
// libjpeg's errors as C++ exceptions, for the scanline reader and writer. libjpeg reports an
// error by calling error_exit, which must not return: it jumps back to the setjmp in guarded(),
// which returns false with the message for the caller to throw. Warnings (corrupt or truncated
// data) are errors too, as TJFLAG_STOPONWARNING made them for tjDecompress2 and as tjCompress2
// failed on them; trace messages are dropped.

#include <csetjmp>
#include <cstdio> // jpeglib.h needs FILE

#include <jpeglib.h>

namespace skyscript::imagery {

struct LibjpegErrorJump {
    jpeg_error_mgr mgr; // first: libjpeg's err pointer is this object's address
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX] = {};

    // For a decompress or compress struct's `err`, before jpeg_create_*.
    jpeg_error_mgr* install() {
        jpeg_std_error(&mgr);
        mgr.error_exit = on_error;
        mgr.emit_message = on_message;
        return &mgr;
    }

    // Runs `f` (libjpeg calls only: nothing with a destructor may be skipped by the jump);
    // false, with `message`, if libjpeg reported an error.
    template <class F> bool guarded(F&& f) {
        if (setjmp(jump)) return false;
        f();
        return true;
    }

private:
    static void on_error(j_common_ptr c) {
        auto* e = reinterpret_cast<LibjpegErrorJump*>(c->err);
        (*c->err->format_message)(c, e->message);
        std::longjmp(e->jump, 1);
    }
    static void on_message(j_common_ptr c, int level) {
        if (level < 0) on_error(c);
    }
};

} // namespace skyscript::imagery
