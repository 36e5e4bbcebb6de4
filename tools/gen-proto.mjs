console.log("gen-proto: placeholder")
