// SPDX-License-Identifier: EUPL-1.2
#pragma once

// A unique_ptr deleter for a C library's object that its own function frees
// (OpenSSL's X509_free, BIO_free...): every such object is owned from the
// moment it exists, so that no error path can leak one.
//
//   using X509Ptr = std::unique_ptr<X509, FreeWith<X509_free>>;

namespace carrefour {

template <auto kFree>
struct FreeWith {
  template <typename T>
  void operator()(T* object) const {
    kFree(object);
  }
};

}  // namespace carrefour
