#pragma once
#define TRUST_VERSION "0.1.0"
